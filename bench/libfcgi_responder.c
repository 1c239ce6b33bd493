/*
 * The benchmark's ceiling: the smallest libfcgi responder there is. 64 threads in
 * libfcgi's own FCGX_Accept_r loop (one kept connection per thread), answering with
 * bytes read once at start. No parsing, no routing, no logging: what any service
 * built on libfcgi costs behind this nginx at the least.
 *
 *   libfcgi_responder SOCKET RECORD_FILE LIST_FILE
 * Requests whose REQUEST_URI ends in "/list" get LIST_FILE, the others RECORD_FILE.
 * Built and run by bench/api_throughput.py; not part of livestreamd.
 */
#include <fcgiapp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define THREADS 64

struct answer { char *bytes; int length; };
static struct answer record, list;
static int listener;

static struct answer load(const char *path) {
    struct answer answer = {0, 0};
    FILE *file = fopen(path, "rb");
    if (!file) { perror(path); exit(1); }
    fseek(file, 0, SEEK_END);
    long size = ftell(file);
    rewind(file);
    char head[128];
    int headLength = snprintf(head, sizeof head, "Status: 200 OK\r\nContent-Type: application/json\r\nContent-Length: %ld\r\n\r\n", size);
    answer.bytes = malloc(headLength + size);
    memcpy(answer.bytes, head, headLength);
    if (fread(answer.bytes + headLength, 1, size, file) != (size_t)size) { perror(path); exit(1); }
    fclose(file);
    answer.length = headLength + (int)size;
    return answer;
}

static void *serve(void *unused) {
    (void)unused;
    FCGX_Request request;
    FCGX_InitRequest(&request, listener, 0);
    while (FCGX_Accept_r(&request) >= 0) {
        const char *uri = FCGX_GetParam("REQUEST_URI", request.envp);
        size_t length = uri ? strlen(uri) : 0;
        struct answer *answer = length >= 5 && strcmp(uri + length - 5, "/list") == 0 ? &list : &record;
        FCGX_PutStr(answer->bytes, answer->length, request.out);
        FCGX_Finish_r(&request);
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 4) { fprintf(stderr, "usage: %s SOCKET RECORD_FILE LIST_FILE\n", argv[0]); return 2; }
    record = load(argv[2]);
    list = load(argv[3]);
    FCGX_Init();
    listener = FCGX_OpenSocket(argv[1], 1024);
    if (listener < 0) { fprintf(stderr, "cannot listen on %s\n", argv[1]); return 1; }
    chmod(argv[1], 0666);
    pthread_t threads[THREADS];
    for (int i = 0; i < THREADS; i++) pthread_create(&threads[i], NULL, serve, NULL);
    for (int i = 0; i < THREADS; i++) pthread_join(threads[i], NULL);
    return 0;
}
