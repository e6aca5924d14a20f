/* Preloaded into the lab's tor processes (LD_PRELOAD): every TCP socket tor connects or
 * accepts gets TCP_NODELAY, so Nagle's algorithm never holds a cell back.
 *
 * Why: tor never sets TCP_NODELAY. Between relays on a real network the connections carry
 * so much traffic that acknowledgements come back at once and Nagle rarely waits; in the
 * lab's handful of relays on 127.0.0.1 a small write waits for the acknowledgement of the
 * previous one, which the receiving kernel delays by up to 40 ms. Every page then took
 * 50-130 ms, by how a client happened to time its requests (the same pages: 255 pages/s
 * for Scrapy alone, 335 with a second client adding traffic beside it), where the relays
 * answer in about 10 ms. The lab's latency is set on purpose instead (the site server's
 * --latency), the same for every client. See onionlab.lab.tornet.nodelay.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

static void no_delay(int fd)
{
    int saved = errno, type = 0, on = 1;
    socklen_t size = sizeof type;
    struct sockaddr_storage address;
    socklen_t address_size = sizeof address;

    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &size) == 0 && type == SOCK_STREAM &&
        getsockname(fd, (struct sockaddr *)&address, &address_size) == 0 &&
        (address.ss_family == AF_INET || address.ss_family == AF_INET6))
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    errno = saved;
}

int connect(int fd, const struct sockaddr *address, socklen_t size)
{
    static int (*real)(int, const struct sockaddr *, socklen_t);

    if (!real)
        real = (int (*)(int, const struct sockaddr *, socklen_t))dlsym(RTLD_NEXT, "connect");
    if (address && (address->sa_family == AF_INET || address->sa_family == AF_INET6))
        no_delay(fd);
    return real(fd, address, size);
}

int accept(int fd, struct sockaddr *address, socklen_t *size)
{
    static int (*real)(int, struct sockaddr *, socklen_t *);
    int accepted;

    if (!real)
        real = (int (*)(int, struct sockaddr *, socklen_t *))dlsym(RTLD_NEXT, "accept");
    accepted = real(fd, address, size);
    if (accepted >= 0)
        no_delay(accepted);
    return accepted;
}

int accept4(int fd, struct sockaddr *address, socklen_t *size, int flags)
{
    static int (*real)(int, struct sockaddr *, socklen_t *, int);
    int accepted;

    if (!real)
        real = (int (*)(int, struct sockaddr *, socklen_t *, int))dlsym(RTLD_NEXT, "accept4");
    accepted = real(fd, address, size, flags);
    if (accepted >= 0)
        no_delay(accepted);
    return accepted;
}
