/* An ordinary C program on Tessera: printf to the console, malloc and free on the heap region
 * its creator configured (64 KiB by default, named in its startup record), string functions,
 * running the heap dry, and abort. Its first argument (a number) goes into the checksum; given
 * 0xab it calls abort(). Its exit status is 0 when every check held (the sum of its heap words
 * among them), else one bit per failed check. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tessera/runtime.h"

enum {
    kHeapSize = 64 * 1024,
    kWords = 1024, /* heap words in the checksum: word i holds i * i + argument */
    kBlock = 1024, /* the heap is filled with blocks of this size */
    kAbortArgument = 0xab,
};

/* One bit of the exit status per check. */
enum {
    kFailAllocation = 1 << 0, /* malloc or realloc failed, or realloc lost data */
    kFailCalloc = 1 << 1,     /* calloc memory not zero */
    kFailStrings = 1 << 2,    /* a string function gave a wrong answer */
    kFailHuge = 1 << 3,       /* malloc of twice the heap did not fail with ENOMEM */
    kFailExhaustion = 1 << 4, /* filling the heap did not end in ENOMEM after many blocks */
    kFailReuse = 1 << 5,      /* freed memory could not be allocated again */
    kFailFormat = 1 << 6,     /* snprintf formatted a number wrongly */
    kFailRegion = 1 << 7,     /* the heap region did not read back */
    kFailChecksum = 1 << 8,   /* the heap words did not sum to what they were given */
};

static uint64_t argument;

static int check_strings(void) {
    char text[64];
    strcpy(text, "tessera");
    strcat(text, " microkernel");
    char copy[64];
    strncpy(copy, text, sizeof(copy));
    char tokens[] = "alpha,beta,,gamma";
    const char* first = strtok(tokens, ",");
    const char* second = strtok(NULL, ",");
    const char* third = strtok(NULL, ",");
    int ok = strlen(text) == 19 && strcmp(text, copy) == 0 && strncmp(text, "tess", 4) == 0 &&
             strchr(text, 'm') == text + 8 && strstr(text, "kernel") == text + 13 &&
             memchr(text, 'k', strlen(text)) == text + 13 && strtol("-0x2a", NULL, 16) == -42 &&
             first != NULL && strcmp(first, "alpha") == 0 && second != NULL &&
             strcmp(second, "beta") == 0 && third != NULL && strcmp(third, "gamma") == 0 &&
             strtok(NULL, ",") == NULL;
    return ok ? 0 : kFailStrings;
}

static int check_format(void) {
    char text[32];
    int n = snprintf(text, sizeof(text), "%.3f|%5d|%-3s|%x", 3.25, 42, "ab", 0xbeefu);
    return n == 20 && strcmp(text, "3.250|   42|ab |beef") == 0 ? 0 : kFailFormat;
}

/* Fills the heap with blocks until malloc fails (each block links to the previous one), checks
 * the failure is ENOMEM after a sensible number of blocks, frees them and allocates again. */
static int run_heap_dry(void) {
    int failures = 0;
    errno = 0;
    void* huge = malloc((size_t)2 * kHeapSize);
    if (huge != NULL || errno != ENOMEM) {
        failures |= kFailHuge;
    }
    free(huge);
    void** last = NULL;
    int blocks = 0;
    errno = 0;
    for (;;) {
        void** block = malloc(kBlock);
        if (block == NULL) {
            break;
        }
        *block = last;
        last = block;
        ++blocks;
    }
    if (errno != ENOMEM || blocks < kHeapSize / kBlock / 2 || blocks > kHeapSize / kBlock) {
        failures |= kFailExhaustion;
    }
    printf("hello-c: the heap held %d blocks of %d bytes, then malloc failed: %s\n", blocks, kBlock,
           strerror(errno));
    while (last != NULL) {
        void** previous = *last;
        free(last);
        last = previous;
    }
    void* again = malloc((size_t)8 * kBlock);
    if (again == NULL) {
        failures |= kFailReuse;
    }
    free(again);
    return failures;
}

static int run(void) {
    int failures = 0;
    if (argument == kAbortArgument) {
        printf("hello-c: argument %#x: calling abort()\n", (unsigned)argument);
        abort();
    }
    printf("hello-c: printf from C: %d %s %#x %p %f\n", -42, "text", 0xc0ffeeu, (void*)&argument,
           3.5);
    fprintf(stderr, "hello-c: this line went to stderr (errno %d is ENOMEM)\n", ENOMEM);
    /* One line longer than a DebugWrite, printed in many pieces: it reaches the console whole. */
    printf("hello-c: a line printed in pieces:");
    for (int i = 0; i < 12; ++i) {
        printf(" %d", i * 11);
    }
    printf(" (longer than 48 characters)\n");

    uint64_t base = 0;
    uint64_t size = 0;
    tessera_heap_region(&base, &size);
    if (base == 0 || size != kHeapSize) {
        failures |= kFailRegion;
    }

    /* Half the words first, then realloc to all of them: the first half must survive. */
    uint64_t* words = malloc(kWords / 2 * sizeof(*words));
    if (words == NULL) {
        return kFailAllocation;
    }
    for (uint64_t i = 0; i < kWords / 2; ++i) {
        words[i] = i * i + argument;
    }
    uint64_t* grown = realloc(words, kWords * sizeof(*words));
    if (grown == NULL) {
        free(words);
        return kFailAllocation;
    }
    words = grown;
    uint64_t checksum = 0;
    for (uint64_t i = 0; i < kWords; ++i) {
        if (i >= kWords / 2) {
            words[i] = i * i + argument;
        } else if (words[i] != i * i + argument) {
            failures |= kFailAllocation;
        }
        checksum += words[i];
    }
    uint32_t* zeroed = calloc(256, sizeof(*zeroed));
    if (zeroed == NULL) {
        failures |= kFailAllocation;
    } else {
        for (int i = 0; i < 256; ++i) {
            if (zeroed[i] != 0) {
                failures |= kFailCalloc;
            }
        }
    }
    free(zeroed);
    free(words);

    failures |= check_strings();
    failures |= check_format();
    failures |= run_heap_dry();
    /* The sum the heap words must have: sum of i * i + argument over i < kWords. */
    const uint64_t n = kWords;
    const uint64_t expected = (n - 1) * n * (2 * n - 1) / 6 + n * argument;
    if (checksum != expected) {
        failures |= kFailChecksum;
    }
    printf("hello-c: checksum %#llx, failures %#x: exit status %d\n", (unsigned long long)checksum,
           failures, failures);
    return failures;
}

int main(int argc, char** argv) {
    argument = argc >= 2 ? strtoull(argv[1], NULL, 0) : 0;
    return run();
}
