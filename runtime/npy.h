// NumPy .npy files: the tensor format of `m1c run --input x.npy` / `--output logits.npy`
// and of the test fixtures.
//
// Hand-written on purpose: Debian ships no C++ .npy library worth depending on, and the
// format is small (a magic string, a Python-dict header, raw C-order data).
//
// Reading accepts format versions 1.0, 2.0 and 3.0 with a strictly parsed header dict of
// exactly the keys 'descr', 'fortran_order' (must be False) and 'shape'. Accepted dtypes:
// float32 ('<f4', '>f4') as is; float64 ('<f8', '>f8') and float16 ('<f2', '>f2') are
// converted to float32 (a float64 value outside float32's range becomes infinite and is
// then rejected by the finiteness check). Anything else (ints, bools, complex, structured,
// object arrays) is an error. The data size implied by the shape is checked against the
// file size before anything is allocated, so a header claiming 2^60 elements fails cleanly.
// Every error is an m1c::Error whose message starts with the file path.
//
// Writing produces version 1.0, '<f4', C order, header padded to 64 bytes (as numpy does),
// through a temporary file renamed into place.
//
// NpyReader and NpyWriter do the same a slice at a time, for arrays larger than memory
// should hold (`m1c run` on a test set of 10,000 images): the reader checks the header and
// the file size when it opens, then converts the elements asked for; the writer writes the
// header first and renames the file into place only when every element has been appended.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace m1c {

struct NpyArray {
    std::vector<int64_t> shape;  // empty for a 0-d array (one element)
    std::vector<float> data;     // C order, product(shape) elements
    int64_t numel() const;
};

struct NpyReadOptions {
    // Inputs must be finite: a NaN or infinity is reported with its flat index.
    bool require_finite = true;
    // Integer dtypes ('<i1'..'<i8', '|u1'..'<u8'), converted to float32 (exact up to 2^24):
    // labels. Inputs refuse them.
    bool allow_integers = false;
};

NpyArray read_npy(const std::string &path, const NpyReadOptions &options = {});

// Reads a .npy a slice at a time: the checks of read_npy on open (header, dtype, size), the
// conversion and the finiteness check (errors name the flat index) per read.
class NpyReader {
public:
    explicit NpyReader(const std::string &path, const NpyReadOptions &options = {});
    ~NpyReader();
    const std::vector<int64_t> &shape() const;
    int64_t numel() const;
    const std::string &path() const;
    // Elements [first, first + count) in C order, converted to float32, into `dst`.
    void read(int64_t first, int64_t count, float *dst);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// Writes a float32 .npy of `shape` as it is appended, into PATH.tmp; finish() checks that
// every element came and renames it to PATH. Destroyed unfinished, it removes PATH.tmp.
class NpyWriter {
public:
    NpyWriter(const std::string &path, const std::vector<int64_t> &shape);
    ~NpyWriter();
    void append(const float *data, int64_t count);
    void finish();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// Writes `product(shape)` floats from `data` (C order).
void write_npy(const std::string &path, const std::vector<int64_t> &shape, const float *data);
// The bytes write_npy writes (`path` only names the array in errors); for .npz members.
std::string npy_bytes(const std::string &path, const std::vector<int64_t> &shape, const float *data);

}  // namespace m1c
