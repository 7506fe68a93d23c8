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

/* Writes rows x cols floats as a float32 .npy (version 1.0, header padded to 64 bytes).
 * Returns 1 on success. */
static inline int npy_write_f32(const char *path, const float *data, long rows, long cols) {
    char text[128];
    int len;
    FILE *f = fopen(path, "wb");
    if (!f) { fprintf(stderr, "%s: cannot write\n", path); return 0; }
    len = sprintf(text, "{'descr': '<f4', 'fortran_order': False, 'shape': (%ld, %ld), }", rows, cols);
    while (len < 117) text[len++] = ' '; /* 10 + 118 = 128 bytes before the data */
    text[len++] = '\n';
    fwrite("\x93NUMPY\x01\x00\x76\x00", 1, 10, f); /* header length 118 */
    fwrite(text, 1, (size_t)len, f);
    fwrite(data, sizeof(float), (size_t)(rows * cols), f);
    if (fclose(f) != 0) return 0;
    return 1;
}
#endif
