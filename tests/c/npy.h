/* Minimal .npy reader for the C tests: little-endian float32 ('<f4'), C order, any shape. */
#ifndef M1C_TEST_NPY_H
#define M1C_TEST_NPY_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reads `path` into a malloc'ed array; *count = number of floats. NULL on any error. */
static float *npy_read_f32(const char *path, long *count) {
    unsigned char pre[10];
    char *header = NULL;
    float *data = NULL;
    unsigned header_len;
    long n = 1;
    const char *shape;
    FILE *f = fopen(path, "rb");
    if (!f) { fprintf(stderr, "%s: cannot open\n", path); return NULL; }
    if (fread(pre, 1, 10, f) != 10 || memcmp(pre, "\x93NUMPY", 6) != 0) goto bad;
    if (pre[6] == 1) {
        header_len = pre[8] | (pre[9] << 8);
    } else {
        unsigned char more[2];
        if (fread(more, 1, 2, f) != 2) goto bad;
        header_len = pre[8] | (pre[9] << 8) | (more[0] << 16) | ((unsigned)more[1] << 24);
    }
    header = (char *)calloc(header_len + 1, 1);
    if (!header || fread(header, 1, header_len, f) != header_len) goto bad;
    if (!strstr(header, "'descr': '<f4'") || !strstr(header, "'fortran_order': False")) goto bad;
    shape = strstr(header, "'shape': (");
    if (!shape) goto bad;
    shape += 10;
    while (*shape && *shape != ')') {
        char *end;
        long d = strtol(shape, &end, 10);
        if (end == shape) break;
        n *= d;
        shape = end;
        while (*shape == ',' || *shape == ' ') ++shape;
    }
    data = (float *)malloc((size_t)n * sizeof(float) + 1);
    if (!data || fread(data, sizeof(float), (size_t)n, f) != (size_t)n) goto bad;
    free(header);
    fclose(f);
    *count = n;
    return data;
bad:
    fprintf(stderr, "%s: not a float32 .npy file this reader understands\n", path);
    free(header);
    free(data);
    fclose(f);
    return NULL;
}
#endif
