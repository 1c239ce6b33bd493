#ifndef LIVESTREAMD_FASTCGI_FEED_H
#define LIVESTREAMD_FASTCGI_FEED_H
#include <stddef.h>

/*
 * libfcgi reads and writes a connection only through OS_Read, OS_Write and
 * OS_IpcClose, which it calls through its PLT. This file defines those three
 * functions, so the dynamic linker binds libfcgi's calls to them: while the calling
 * thread has a feed active, libfcgi reads one complete, already validated request
 * from memory and writes its answer into memory; livestreamd's own event loop does
 * the socket I/O with bounds and deadlines. Without an active feed they behave as
 * libfcgi's own (read, write, close).
 */

/// Starts feeding libfcgi on this thread: reads come from `input`, writes are captured.
void lsd_feed_begin(const unsigned char *input, size_t length);
/// Ends the feed on this thread; the captured output stays until the next begin.
void lsd_feed_end(void);
/// The bytes libfcgi wrote during the current or last feed on this thread.
const unsigned char *lsd_feed_output(size_t *length);
/// Bytes libfcgi has written so far during this feed (a position in the output).
size_t lsd_feed_output_length(void);
/// Appends bytes to the captured output (livestreamd's own large records).
int lsd_feed_append(const unsigned char *bytes, size_t length);
/// 1 if libfcgi asked to close the connection during this feed.
int lsd_feed_close_requested(void);
/// Gives back the output buffer's memory when it grew past `keep` bytes.
void lsd_feed_trim(size_t keep);

#endif
