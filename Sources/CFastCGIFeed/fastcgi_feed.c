#include "fastcgi_feed.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct feed {
    int active;
    int closeRequested;
    const unsigned char *input;
    size_t inputLength;
    size_t inputOffset;
    unsigned char *output;
    size_t outputLength;
    size_t outputCapacity;
};

static _Thread_local struct feed current;

void lsd_feed_begin(const unsigned char *input, size_t length) {
    current.active = 1;
    current.closeRequested = 0;
    current.input = input;
    current.inputLength = length;
    current.inputOffset = 0;
    current.outputLength = 0;
}

void lsd_feed_end(void) {
    current.active = 0;
    current.input = NULL;
}

const unsigned char *lsd_feed_output(size_t *length) {
    *length = current.outputLength;
    return current.output;
}

size_t lsd_feed_output_length(void) { return current.outputLength; }

int lsd_feed_close_requested(void) { return current.closeRequested; }

int lsd_feed_append(const unsigned char *bytes, size_t length) {
    if (current.outputLength + length > current.outputCapacity) {
        size_t capacity = current.outputCapacity ? current.outputCapacity : 16384;
        while (capacity < current.outputLength + length) capacity *= 2;
        unsigned char *grown = realloc(current.output, capacity);
        if (grown == NULL) return -1;
        current.output = grown;
        current.outputCapacity = capacity;
    }
    memcpy(current.output + current.outputLength, bytes, length);
    current.outputLength += length;
    return 0;
}

void lsd_feed_trim(size_t keep) {
    if (current.outputCapacity > keep) {
        free(current.output);
        current.output = NULL;
        current.outputCapacity = 0;
        current.outputLength = 0;
    }
}

/* libfcgi's OS layer (fcgios.h), as libfcgi calls it. */

int OS_Read(int fd, char *buf, size_t len) {
    if (!current.active) return (int)read(fd, buf, len);
    size_t left = current.inputLength - current.inputOffset;
    size_t count = len < left ? len : left;
    memcpy(buf, current.input + current.inputOffset, count);
    current.inputOffset += count;
    return (int)count;  /* 0 at the end: libfcgi reports a protocol error, never blocks */
}

int OS_Write(int fd, char *buf, size_t len) {
    if (!current.active) return (int)write(fd, buf, len);
    if (lsd_feed_append((const unsigned char *)buf, len) != 0) {
        errno = ENOMEM;
        return -1;
    }
    return (int)len;
}

int OS_IpcClose(int ipcFd, int shutdown) {
    (void)shutdown;
    if (!current.active) return close(ipcFd);
    current.closeRequested = 1;  /* the event loop closes it after writing the answer */
    return 0;
}
