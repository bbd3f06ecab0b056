/*
 * A fault-injecting layer below SQLite, loaded with LD_PRELOAD into one process (the daemon).
 * Tests only: core/testing/fault_fs.ts compiles it with the system gcc and drives it.
 *
 * It interposes libc's write-side calls (write, pwrite, pwrite64, pwritev, pwritev64, fsync,
 * fdatasync, ftruncate, ftruncate64) for the files of ONE database: HERO_FAULT_DB and its -wal and
 * -journal (matched by the fd's path in /proc/self/fd). Every other fd goes straight to libc.
 *
 * HERO_FAULT_CTL=<dir>: fail the N-th write. Rounds are numbered from 1. While round R is not
 * armed, each matching write looks for <dir>/arm.R ("N ERRNO COUNT": ERRNO EIO or ENOSPC; COUNT
 * writes fail from the N-th on, 0 = until <dir>/clear.R exists). Once armed, the N-th matching
 * write (counted from the arming) returns -1 with ERRNO, and so do the following ones up to COUNT;
 * the first failure writes <dir>/hit.R ("<n> <call> <file>"). <dir>/clear.R ends the round (the
 * fault stops at once) and the shim waits for arm.(R+1).
 *
 * HERO_FAULT_UNDO=<file>: an undo journal for power-loss emulation. Before each write or truncate
 * of a matching file, the bytes it replaces and the file's size are appended to the journal; a
 * successful fsync/fdatasync of a file appends a sync mark (its earlier records are then covered).
 * When no matching file has unsynced writes the journal is emptied. After SIGKILL, undoing every
 * record after a file's last sync mark leaves what a device that lost its unflushed writes keeps.
 * Record: "UNDO", u32 file (1 db, 2 wal, 3 journal), i64 offset, i64 old size, i64 length (-1 for
 * a sync mark), then length old bytes (native endianness).
 *
 * The constructor removes LD_PRELOAD and the HERO_FAULT_* variables from the environment, so the
 * process's children (agents) run without the shim.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#define PATH_CAP 4200

typedef ssize_t (*write_fn)(int, const void *, size_t);
typedef ssize_t (*pwrite_fn)(int, const void *, size_t, off_t);
typedef ssize_t (*pwritev_fn)(int, const struct iovec *, int, off_t);
typedef int (*sync_fn)(int);
typedef int (*trunc_fn)(int, off_t);

static write_fn real_write;
static pwrite_fn real_pwrite, real_pwrite64;
static pwritev_fn real_pwritev, real_pwritev64;
static sync_fn real_fsync, real_fdatasync;
static trunc_fn real_ftruncate, real_ftruncate64;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static int active;
static char paths[3][PATH_CAP];
static char ctl[4096];
static int undo_fd = -1;
static int dirty[3];

/* Fault rounds (HERO_FAULT_CTL). state: 0 waiting for arm.R, 1 counting/failing, 2 spent. */
static int state;
static long round_no = 1;
static long fault_n, fault_count, seen, failed;
static int fault_errno;

static void resolve(void) {
  if (real_write) return;
  real_pwrite = (pwrite_fn)dlsym(RTLD_NEXT, "pwrite");
  real_pwrite64 = (pwrite_fn)dlsym(RTLD_NEXT, "pwrite64");
  real_pwritev = (pwritev_fn)dlsym(RTLD_NEXT, "pwritev");
  real_pwritev64 = (pwritev_fn)dlsym(RTLD_NEXT, "pwritev64");
  real_fsync = (sync_fn)dlsym(RTLD_NEXT, "fsync");
  real_fdatasync = (sync_fn)dlsym(RTLD_NEXT, "fdatasync");
  real_ftruncate = (trunc_fn)dlsym(RTLD_NEXT, "ftruncate");
  real_ftruncate64 = (trunc_fn)dlsym(RTLD_NEXT, "ftruncate64");
  real_write = (write_fn)dlsym(RTLD_NEXT, "write");
}

/* 1, 2, 3 for the database, its WAL, its rollback journal; 0 for any other fd. */
static int file_of(int fd) {
  if (!active || fd < 0) return 0;
  char link[64], target[PATH_CAP];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, target, sizeof target - 1);
  if (n <= 0) return 0;
  target[n] = 0;
  for (int i = 0; i < 3; i++) {
    if (strcmp(target, paths[i]) == 0) return i + 1;
  }
  return 0;
}

static const char *file_name(int file) {
  return file == 1 ? "db" : file == 2 ? "wal" : "journal";
}

static void write_all(int fd, const char *buf, size_t len) {
  while (len > 0) {
    ssize_t w = real_write(fd, buf, len);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;
    buf += w;
    len -= (size_t)w;
  }
}

static int ctl_exists(const char *name, long r) {
  char p[PATH_CAP];
  snprintf(p, sizeof p, "%s/%s.%ld", ctl, name, r);
  return access(p, F_OK) == 0;
}

/* Reads arm.R; 1 when the round is now armed. */
static int try_arm(void) {
  char p[PATH_CAP], buf[128], name[32] = {0};
  snprintf(p, sizeof p, "%s/arm.%ld", ctl, round_no);
  int fd = open(p, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return 0;
  buf[n] = 0;
  if (sscanf(buf, "%ld %31s %ld", &fault_n, name, &fault_count) != 3) return 0;
  fault_errno = strcmp(name, "ENOSPC") == 0 ? ENOSPC : EIO;
  seen = 0;
  failed = 0;
  state = 1;
  return 1;
}

static void report_hit(const char *call, int file) {
  char tmp[PATH_CAP], dst[PATH_CAP], line[128];
  snprintf(tmp, sizeof tmp, "%s/.hit.%ld", ctl, round_no);
  snprintf(dst, sizeof dst, "%s/hit.%ld", ctl, round_no);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return;
  int len = snprintf(line, sizeof line, "%ld %s %s\n", seen, call, file_name(file));
  write_all(fd, line, (size_t)len);
  close(fd);
  rename(tmp, dst);
}

/* Under mu: the errno to fail this matching write with, or 0 to let it through. */
static int fault_check(const char *call, int file) {
  if (!ctl[0]) return 0;
  if (state != 0 && ctl_exists("clear", round_no)) {
    state = 0;
    round_no++;
  }
  if (state == 0 && !try_arm()) return 0;
  if (state != 1) return 0;
  if (++seen < fault_n) return 0;
  if (++failed == 1) report_hit(call, file);
  if (fault_count > 0 && failed >= fault_count) state = 2;
  return fault_errno;
}

/* Under mu: journal what [off, end) of the file replaces (end = INT64_MAX for a truncation). */
static void log_undo(int file, int fd, int64_t off, int64_t end) {
  if (undo_fd < 0) return;
  struct stat st;
  if (fstat(fd, &st) != 0) return;
  int64_t old_size = st.st_size;
  int64_t stop = end < old_size ? end : old_size;
  int64_t len = stop > off ? stop - off : 0;
  size_t total = 32 + (size_t)len;
  char *buf = malloc(total);
  if (!buf) abort();
  uint32_t f = (uint32_t)file;
  memcpy(buf, "UNDO", 4);
  memcpy(buf + 4, &f, 4);
  memcpy(buf + 8, &off, 8);
  memcpy(buf + 16, &old_size, 8);
  memcpy(buf + 24, &len, 8);
  for (int64_t got = 0; got < len;) {
    ssize_t r = pread(fd, buf + 32 + got, (size_t)(len - got), off + got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      /* Cannot read what is replaced: record nothing rather than a wrong undo. */
      free(buf);
      abort();
    }
    got += r;
  }
  write_all(undo_fd, buf, total);
  free(buf);
  dirty[file - 1] = 1;
}

/* Under mu: a successful sync of `file` covers its earlier records. */
static void log_sync(int file) {
  if (undo_fd < 0) return;
  dirty[file - 1] = 0;
  if (!dirty[0] && !dirty[1] && !dirty[2]) {
    real_ftruncate(undo_fd, 0);
    return;
  }
  char rec[32] = {0};
  uint32_t f = (uint32_t)file;
  int64_t none = -1, zero = 0;
  memcpy(rec, "UNDO", 4);
  memcpy(rec + 4, &f, 4);
  memcpy(rec + 8, &zero, 8);
  memcpy(rec + 16, &zero, 8);
  memcpy(rec + 24, &none, 8);
  write_all(undo_fd, rec, sizeof rec);
}

/* The write-side calls. off < 0 means "at the fd's position" (write). */
enum kind { K_WRITE, K_PWRITE, K_PWRITE64, K_PWRITEV, K_PWRITEV64 };

static ssize_t do_write(enum kind k, int fd, const void *buf, const struct iovec *iov, int iovcnt,
                        size_t n, off_t off) {
  resolve();
  int file = file_of(fd);
  if (file) {
    static const char *names[] = {"write", "pwrite", "pwrite64", "pwritev", "pwritev64"};
    pthread_mutex_lock(&mu);
    int e = fault_check(names[k], file);
    if (e) {
      pthread_mutex_unlock(&mu);
      errno = e;
      return -1;
    }
    int64_t at = k == K_WRITE ? (int64_t)lseek64(fd, 0, SEEK_CUR) : (int64_t)off;
    if (at >= 0) log_undo(file, fd, at, at + (int64_t)n);
  }
  ssize_t r;
  switch (k) {
    case K_WRITE: r = real_write(fd, buf, n); break;
    case K_PWRITE: r = real_pwrite(fd, buf, n, off); break;
    case K_PWRITE64: r = real_pwrite64(fd, buf, n, off); break;
    case K_PWRITEV: r = real_pwritev(fd, iov, iovcnt, off); break;
    default: r = real_pwritev64(fd, iov, iovcnt, off); break;
  }
  if (file) {
    int saved = errno;
    pthread_mutex_unlock(&mu);
    errno = saved;
  }
  return r;
}

static size_t iov_len(const struct iovec *iov, int iovcnt) {
  size_t n = 0;
  for (int i = 0; i < iovcnt; i++) n += iov[i].iov_len;
  return n;
}

ssize_t write(int fd, const void *buf, size_t n) {
  return do_write(K_WRITE, fd, buf, NULL, 0, n, -1);
}
ssize_t pwrite(int fd, const void *buf, size_t n, off_t off) {
  return do_write(K_PWRITE, fd, buf, NULL, 0, n, off);
}
ssize_t pwrite64(int fd, const void *buf, size_t n, off64_t off) {
  return do_write(K_PWRITE64, fd, buf, NULL, 0, n, off);
}
ssize_t pwritev(int fd, const struct iovec *iov, int iovcnt, off_t off) {
  return do_write(K_PWRITEV, fd, NULL, iov, iovcnt, iov_len(iov, iovcnt), off);
}
ssize_t pwritev64(int fd, const struct iovec *iov, int iovcnt, off64_t off) {
  return do_write(K_PWRITEV64, fd, NULL, iov, iovcnt, iov_len(iov, iovcnt), off);
}

static int do_sync(sync_fn *fn, int fd) {
  resolve();
  int file = file_of(fd);
  if (!file) return (*fn)(fd);
  pthread_mutex_lock(&mu);
  int r = (*fn)(fd);
  int saved = errno;
  if (r == 0) log_sync(file);
  pthread_mutex_unlock(&mu);
  errno = saved;
  return r;
}

int fsync(int fd) {
  resolve();
  return do_sync(&real_fsync, fd);
}
int fdatasync(int fd) {
  resolve();
  return do_sync(&real_fdatasync, fd);
}

static int do_truncate(trunc_fn *fn, int fd, off_t size) {
  resolve();
  int file = file_of(fd);
  if (!file) return (*fn)(fd, size);
  pthread_mutex_lock(&mu);
  log_undo(file, fd, (int64_t)size, INT64_MAX);
  int r = (*fn)(fd, size);
  int saved = errno;
  pthread_mutex_unlock(&mu);
  errno = saved;
  return r;
}

int ftruncate(int fd, off_t size) {
  resolve();
  return do_truncate(&real_ftruncate, fd, size);
}
int ftruncate64(int fd, off64_t size) {
  resolve();
  return do_truncate(&real_ftruncate64, fd, size);
}

__attribute__((constructor)) static void fault_fs_init(void) {
  resolve();
  const char *db = getenv("HERO_FAULT_DB");
  if (db && *db) {
    snprintf(paths[0], PATH_CAP, "%s", db);
    snprintf(paths[1], PATH_CAP, "%s-wal", db);
    snprintf(paths[2], PATH_CAP, "%s-journal", db);
    active = 1;
  }
  const char *c = getenv("HERO_FAULT_CTL");
  if (c && *c) {
    snprintf(ctl, sizeof ctl, "%s", c);
    char p[PATH_CAP], line[32];
    snprintf(p, sizeof p, "%s/loaded", ctl);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd >= 0) {
      int len = snprintf(line, sizeof line, "%d\n", (int)getpid());
      write_all(fd, line, (size_t)len);
      close(fd);
    }
  }
  const char *u = getenv("HERO_FAULT_UNDO");
  if (u && *u) undo_fd = open(u, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
  unsetenv("LD_PRELOAD");
  unsetenv("HERO_FAULT_DB");
  unsetenv("HERO_FAULT_CTL");
  unsetenv("HERO_FAULT_UNDO");
}
