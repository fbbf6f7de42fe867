// libfcgi (Debian libfcgi-dev, pkg-config "fcgi"). Only FastCGIServer imports this.
// fcgiapp.h only: fcgi_stdio.h #defines printf/FILE/fopen and must never reach Swift.
#include <fcgiapp.h>

// Per-thread scheduling priority (Linux keeps the nice value per thread): Swift's Glibc module
// has no gettid(), and the syscall() it would need is variadic.
#include <errno.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

/// Adds `increment` to the calling thread's nice value (at most 19); 0 on success, else -1 with errno.
static inline int gatehouse_lower_thread_priority(int increment) {
    pid_t tid = (pid_t)syscall(SYS_gettid);
    errno = 0;
    int current = getpriority(PRIO_PROCESS, (id_t)tid);
    if (current == -1 && errno != 0) return -1;
    int target = current + increment > 19 ? 19 : current + increment;
    return setpriority(PRIO_PROCESS, (id_t)tid, target);
}

// glibc malloc tuning (mallopt is not in Swift's Glibc module).
#include <malloc.h>

/// Keeps up to `trim_threshold` bytes of freed memory instead of returning it to the system, and
/// serves blocks below `mmap_threshold` from the heap; 1 when both were accepted.
static inline int gatehouse_tune_malloc(int trim_threshold, int mmap_threshold) {
    return mallopt(M_TRIM_THRESHOLD, trim_threshold) == 1 && mallopt(M_MMAP_THRESHOLD, mmap_threshold) == 1;
}

