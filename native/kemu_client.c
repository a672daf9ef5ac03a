/*
 * The client of kemu's resident daemon (docs/startup.md, "Resident daemon"). ./kemu execs it when a daemon of
 * its tree runs, so it must cost next to nothing: no JVM, one connection, no allocation beyond the request.
 *
 *   kemu-client SOCKET LAUNCHER ARGS...   run ARGS through the daemon; if the daemon is not there, refuses
 *                                         the request or sends it back, exec LAUNCHER ARGS with KEMU_DAEMON=0
 *   kemu-client --status SOCKET           print the daemon's status line (status 0), or status 3: none there
 *   kemu-client --stop SOCKET             ask the daemon to exit (status 0), or status 3: none there
 *
 * The request is a list of strings (u32 big-endian length, bytes): kind, cwd, argc, argv..., envc, env...
 * The daemon answers with frames (type byte, u32 big-endian length, payload): 'O' stdout bytes, 'E' stderr
 * bytes, 'X' the exit status (u32), 'F' "run it yourself" with a note for stderr (often empty).
 * On SIGINT/SIGTERM/SIGHUP the client sends one byte 'I' (the daemon ends the run), then dies of the signal
 * as a plain JVM would.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define NO_DAEMON 3

extern char **environ;

static volatile sig_atomic_t caught;

static void on_signal(int sig) { caught = sig; }
/* The mask the caller gave: while relaying, SIGINT/SIGTERM/SIGHUP are blocked except inside ppoll. */
static sigset_t caller_mask;

/* The environment kemu reads: a daemon started under other values is not used (it compares them). */
static int read_by_kemu(const char *entry) {
    static const char *names[] = {"PATH=", "LANG=", "LC_ALL=", "LC_CTYPE=", "UNICORN_LIB=", "CAPSTONE_LIB=",
                                  "KEYSTONE_WASM=", "XDG_CACHE_HOME=", NULL};
    if (strncmp(entry, "KEMU_", 5) == 0) return strncmp(entry, "KEMU_DAEMON", 11) != 0;
    for (int i = 0; names[i]; i++)
        if (strncmp(entry, names[i], strlen(names[i])) == 0) return 1;
    return 0;
}

static int write_all(int fd, const void *data, size_t size) {
    const char *p = data;
    while (size > 0) {
        ssize_t n = send(fd, p, size, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        p += n;
        size -= (size_t)n;
    }
    return 0;
}

/* Output to the caller's descriptors; a closed pipe there is ignored, as the JVM's PrintStream ignores it. */
static void relay(int fd, const char *data, size_t size) {
    while (size > 0) {
        ssize_t n = write(fd, data, size);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        data += n;
        size -= (size_t)n;
    }
}

static int send_u32(int fd, uint32_t n) {
    unsigned char bytes[4] = {n >> 24, n >> 16, n >> 8, n};
    return write_all(fd, bytes, 4);
}

static int send_string(int fd, const char *s) {
    uint32_t n = (uint32_t)strlen(s);
    return send_u32(fd, n) || write_all(fd, s, n);
}

static int send_count(int fd, int count) {
    char text[16];
    snprintf(text, sizeof text, "%d", count);
    return send_string(fd, text);
}

/*
 * Waits until fd is readable; -1 once a signal has come. The signals are blocked everywhere else and ppoll
 * unblocks them atomically with the wait, so one cannot slip in between the check of `caught` and a
 * wait that would then block until the daemon's next frame.
 */
static int wait_readable(int fd) {
    struct pollfd wait = {.fd = fd, .events = POLLIN};
    for (;;) {
        if (caught) return -1;
        if (ppoll(&wait, 1, NULL, &caller_mask) >= 0 || errno != EINTR) return 0; /* read reports an error */
    }
}

/* Reads exactly size bytes; 0 on success, -1 at EOF, on an error or once a signal has come. */
static int read_all(int fd, void *data, size_t size) {
    char *p = data;
    while (size > 0) {
        if (wait_readable(fd) != 0) return -1;
        ssize_t n = read(fd, p, size);
        if (n < 0 && errno == EINTR) {
            if (caught) return -1;
            continue;
        }
        if (n <= 0) return -1;
        p += n;
        size -= (size_t)n;
    }
    return 0;
}

/* A socket of this user, not reachable by others; anything else is not kemu's daemon for this caller. */
static int connect_daemon(const char *path) {
    struct stat st;
    struct sockaddr_un address = {.sun_family = AF_UNIX};
    if (lstat(path, &st) != 0 || !S_ISSOCK(st.st_mode) || st.st_uid != getuid() || (st.st_mode & 077) != 0)
        return -1;
    if (strlen(path) >= sizeof address.sun_path) return -1;
    strcpy(address.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    if (connect(fd, (struct sockaddr *)&address, sizeof address) != 0) {
        if (errno == ECONNREFUSED) unlink(path); /* a daemon that died: its socket is left over */
        close(fd);
        return -1;
    }
    return fd;
}

static void run_without_daemon(char **launcher_argv) {
    signal(SIGPIPE, SIG_DFL);
    sigprocmask(SIG_SETMASK, &caller_mask, NULL); /* the launcher gets the caller's signals, as exec keeps a mask */
    setenv("KEMU_DAEMON", "0", 1);
    execv(launcher_argv[0], launcher_argv);
    fprintf(stderr, "kemu: cannot run %s: %s\n", launcher_argv[0], strerror(errno));
    exit(70);
}

static void die_of(int sig, int fd) {
    char interrupt = 'I';
    write_all(fd, &interrupt, 1);
    close(fd);
    signal(sig, SIG_DFL);
    raise(sig); /* pending while blocked: unblocking delivers it */
    sigprocmask(SIG_SETMASK, &caller_mask, NULL);
    exit(128 + sig);
}

/* Relays frames until the exit status; returns it. */
static int relay_frames(int fd, char **launcher_argv) {
    static char buffer[1 << 16];
    for (;;) {
        unsigned char header[5];
        if (read_all(fd, header, 5) != 0) {
            if (caught) die_of(caught, fd);
            break;
        }
        uint32_t size = (uint32_t)header[1] << 24 | (uint32_t)header[2] << 16 | (uint32_t)header[3] << 8 | header[4];
        while (size > 0) {
            size_t part = size < sizeof buffer ? size : sizeof buffer;
            if (read_all(fd, buffer, part) != 0) {
                if (caught) die_of(caught, fd);
                goto ended;
            }
            size -= (uint32_t)part;
            if (header[0] == 'O') relay(1, buffer, part);
            else if (header[0] == 'E' || header[0] == 'F') relay(2, buffer, part);
            else if (header[0] == 'X' && part == 4) {
                close(fd);
                return (unsigned char)buffer[0] << 24 | (unsigned char)buffer[1] << 16 | (unsigned char)buffer[2] << 8
                       | (unsigned char)buffer[3];
            }
        }
        if (header[0] == 'F' && launcher_argv) {
            close(fd);
            run_without_daemon(launcher_argv);
        }
    }
ended:
    if (!launcher_argv) return NO_DAEMON; /* a control request: the daemon went away meanwhile */
    fprintf(stderr, "kemu: the resident daemon ended without an exit status (its log: target/kemu-daemon.log); "
                    "run again, or with KEMU_DAEMON=0 to bypass it\n");
    return 70;
}

static int control(const char *kind, const char *socket_path) {
    int fd = connect_daemon(socket_path);
    if (fd < 0 || send_u32(fd, 1) || send_string(fd, kind)) return NO_DAEMON;
    return relay_frames(fd, NULL);
}

int main(int argc, char **argv) {
    sigprocmask(SIG_SETMASK, NULL, &caller_mask);
    if (argc == 3 && (strcmp(argv[1], "--status") == 0 || strcmp(argv[1], "--stop") == 0))
        return control(argv[1] + 2, argv[2]);
    if (argc < 3) {
        fprintf(stderr, "usage: kemu-client SOCKET LAUNCHER ARGS... | --status SOCKET | --stop SOCKET\n");
        return 2;
    }
    char **launcher_argv = argv + 2;
    signal(SIGPIPE, SIG_IGN);
    int fd = connect_daemon(argv[1]);
    if (fd < 0) run_without_daemon(launcher_argv);

    char cwd[4096];
    if (!getcwd(cwd, sizeof cwd)) run_without_daemon(launcher_argv);
    int envc = 0;
    for (char **e = environ; *e; e++) envc += read_by_kemu(*e);
    int args = argc - 3, failed = send_u32(fd, (uint32_t)(4 + args + envc)) || send_string(fd, "run")
                                  || send_string(fd, cwd) || send_count(fd, args);
    for (int i = 3; i < argc && !failed; i++) failed = send_string(fd, argv[i]);
    failed = failed || send_count(fd, envc);
    for (char **e = environ; *e && !failed; e++)
        if (read_by_kemu(*e)) failed = send_string(fd, *e);
    if (failed) run_without_daemon(launcher_argv); /* the daemon had not started the request */

    struct sigaction action = {.sa_handler = on_signal};
    sigemptyset(&action.sa_mask);
    sigset_t relayed;
    sigemptyset(&relayed);
    sigaddset(&relayed, SIGINT);
    sigaddset(&relayed, SIGTERM);
    sigaddset(&relayed, SIGHUP);
    sigprocmask(SIG_BLOCK, &relayed, NULL); /* delivered only inside wait_readable's ppoll */
    sigaction(SIGINT, &action, NULL);
    sigaction(SIGTERM, &action, NULL);
    sigaction(SIGHUP, &action, NULL);
    return relay_frames(fd, launcher_argv);
}
