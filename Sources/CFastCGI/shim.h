#ifndef LIVESTREAMD_CFASTCGI_SHIM_H
#define LIVESTREAMD_CFASTCGI_SHIM_H
#include <fcgiapp.h>
/* The server's event loop; Swift's Glibc module does not export these. */
#include <sys/epoll.h>
#include <sys/eventfd.h>
#endif
