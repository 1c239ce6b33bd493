#ifndef LIVESTREAMD_CFASTCGI_SHIM_H
#define LIVESTREAMD_CFASTCGI_SHIM_H
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcgiapp.h>
/* The server's event loop; Swift's Glibc module does not export these. */
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

/* accept4 is a GNU extension, hidden from Swift's Glibc module. */
static inline int lsd_accept(int listener) {
    return accept4(listener, 0, 0, SOCK_NONBLOCK | SOCK_CLOEXEC);
}
#endif
