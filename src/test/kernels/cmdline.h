/* Reading the Multiboot command line: the kernels that take one pick their variant by a word in it. */
#ifndef CMDLINE_H
#define CMDLINE_H

/* Whether text holds word as a space-separated word. */
static inline int has_word(const char *text, const char *word) {
    for (const char *start = text; *start; start++) {
        if (start != text && start[-1] != ' ') {
            continue;
        }
        const char *a = start, *b = word;
        while (*b && *a == *b) {
            a++, b++;
        }
        if (!*b && (*a == 0 || *a == ' ')) {
            return 1;
        }
    }
    return 0;
}

#endif
