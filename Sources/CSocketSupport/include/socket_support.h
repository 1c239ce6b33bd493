#ifndef LIVESTREAMD_SOCKET_SUPPORT_H
#define LIVESTREAMD_SOCKET_SUPPORT_H

/* Socket calls Swift's Glibc module does not offer (GNU extensions, cmsg macros). */

/// accept4 with SOCK_NONBLOCK | SOCK_CLOEXEC.
int lsd_accept(int listener);

/// Sends `fd` over a unix socket (SCM_RIGHTS, one descriptor per message); 0 or -1 with errno.
int lsd_send_fd(int channel, int fd);

/// The next descriptor sent with lsd_send_fd (close-on-exec); -1 with errno (EAGAIN: none yet), -2 at the end.
int lsd_receive_fd(int channel);

#endif
