// .npy reader and writer (see npy.h for what is accepted). Hand-written: no Debian C++
// .npy library is worth a dependency for a format this small.
#include "npy.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <system_error>

#include "core/error.h"

namespace m1c {
namespace {

constexpr char kMagic[6] = {'\x93', 'N', 'U', 'M', 'P', 'Y'};
// numpy itself refuses headers over 10000 bytes unless told otherwise; allow some slack.
constexpr uint32_t kMaxHeaderBytes = 1u << 20;
constexpr int64_t kMaxDim = int64_t(1) << 62;

std::string shape_text(const std::vector<int64_t> &shape) {
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "]";
}

bool host_is_little_endian() {
    const uint16_t one = 1;
    unsigned char byte;
    std::memcpy(&byte, &one, 1);
    return byte == 1;
}

float half_to_float(uint16_t h) {
    const uint32_t sign = uint32_t(h >> 15) << 31;
    const uint32_t exp = (h >> 10) & 0x1f;
    uint32_t mant = h & 0x3ff;
    uint32_t bits;
    if (exp == 0x1f) {
        bits = sign | 0x7f800000u | (mant << 13);  // inf / nan
    } else if (exp != 0) {
        bits = sign | ((exp + 112) << 23) | (mant << 13);
    } else if (mant == 0) {
        bits = sign;  // +-0
    } else {
        int e = -1;  // subnormal: normalise
        do {
            mant <<= 1;
            ++e;
        } while (!(mant & 0x400));
        bits = sign | (uint32_t(112 - e) << 23) | ((mant & 0x3ff) << 13);
    }
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
}

enum class Kind { F16, F32, F64, Int, UInt };
struct DType {
    Kind kind = Kind::F32;
    int size = 4;
    bool little = true;
    std::string descr;  // as the header says it, e.g. '<i4'
};

struct Header {
    DType dtype;
    std::vector<int64_t> shape;
};

// Strict parser for the header dict numpy writes, e.g.
//   {'descr': '<f4', 'fortran_order': False, 'shape': (1, 3, 224, 224), }
// followed by space padding and '\n'. Only these three keys, each exactly once.
class HeaderParser {
public:
    HeaderParser(const std::string &path, const std::string &text) : path_(path), s_(text) {}

    Header parse() {
        Header h;
        bool have_descr = false, have_fortran = false, have_shape = false;
        skip_ws();
        expect('{');
        skip_ws();
        while (peek() != '}') {
            const std::string key = quoted();
            skip_ws();
            expect(':');
            skip_ws();
            if (key == "descr") {
                if (have_descr) fail("key 'descr' appears twice");
                have_descr = true;
                h.dtype = dtype(quoted());
            } else if (key == "fortran_order") {
                if (have_fortran) fail("key 'fortran_order' appears twice");
                have_fortran = true;
                if (word() != "False")
                    fail("fortran_order is not False: Fortran-order arrays are not supported "
                         "(save a C-contiguous array, e.g. np.ascontiguousarray(a))");
            } else if (key == "shape") {
                if (have_shape) fail("key 'shape' appears twice");
                have_shape = true;
                h.shape = shape();
            } else {
                fail("unexpected key '" + key + "' (expected only 'descr', 'fortran_order', 'shape')");
            }
            skip_ws();
            if (peek() == ',') {
                ++pos_;
                skip_ws();
            } else if (peek() != '}') {
                fail("expected ',' or '}' at offset " + std::to_string(pos_));
            }
        }
        ++pos_;  // '}'
        while (pos_ < s_.size()) {
            const char c = s_[pos_++];
            if (c != ' ' && c != '\n' && c != '\t' && c != '\r')
                fail("unexpected text after the header dict at offset " + std::to_string(pos_ - 1));
        }
        if (!have_descr) fail("header has no 'descr' key");
        if (!have_fortran) fail("header has no 'fortran_order' key");
        if (!have_shape) fail("header has no 'shape' key");
        return h;
    }

private:
    [[noreturn]] void fail(const std::string &what) const {
        throw Error(path_ + ": bad .npy header: " + what);
    }
    char peek() const {
        if (pos_ >= s_.size()) fail("header ends early");
        return s_[pos_];
    }
    void skip_ws() {
        while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' ||
                                    s_[pos_] == '\r'))
            ++pos_;
    }
    void expect(char c) {
        if (peek() != c)
            fail(std::string("expected '") + c + "' at offset " + std::to_string(pos_));
        ++pos_;
    }
    std::string quoted() {
        const char q = peek();
        if (q != '\'' && q != '"') fail("expected a quoted string at offset " + std::to_string(pos_));
        ++pos_;
        const size_t end = s_.find(q, pos_);
        if (end == std::string::npos) fail("unterminated string");
        std::string out = s_.substr(pos_, end - pos_);
        pos_ = end + 1;
        return out;
    }
    std::string word() {
        const size_t start = pos_;
        while (pos_ < s_.size() && std::isalpha(static_cast<unsigned char>(s_[pos_]))) ++pos_;
        return s_.substr(start, pos_ - start);
    }
    std::vector<int64_t> shape() {
        std::vector<int64_t> dims;
        expect('(');
        skip_ws();
        bool trailing_comma = false;
        while (peek() != ')') {
            if (!std::isdigit(static_cast<unsigned char>(peek())))
                fail("shape entries must be non-negative integers (offset " +
                     std::to_string(pos_) + ")");
            int64_t v = 0;
            while (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) {
                const int digit = s_[pos_++] - '0';
                if (v > (kMaxDim - digit) / 10) fail("shape entry is absurdly large");
                v = v * 10 + digit;
            }
            dims.push_back(v);
            skip_ws();
            trailing_comma = false;
            if (peek() == ',') {
                ++pos_;
                skip_ws();
                trailing_comma = true;
            } else if (peek() != ')') {
                fail("expected ',' or ')' in shape at offset " + std::to_string(pos_));
            }
        }
        ++pos_;
        if (dims.size() == 1 && !trailing_comma) fail("shape (n) is not a tuple; expected (n,)");
        if (dims.size() > 32) fail("more than 32 dimensions");
        return dims;
    }
    DType dtype(const std::string &d) {
        const std::string supported =
            " (supported: float32 '<f4'; float64 '<f8' and float16 '<f2' are converted to "
            "float32; big-endian '>' forms too)";
        if (d.size() != 3 || (d[0] != '<' && d[0] != '>' && d[0] != '=' && d[0] != '|') ||
            (d[1] != 'f' && d[1] != 'i' && d[1] != 'u'))
            fail("dtype '" + d + "' is not supported" + supported);
        DType t;
        t.descr = d;
        t.little = d[0] == '<' || d[0] == '|' || (d[0] == '=' && host_is_little_endian());
        if (d[1] != 'f') {  // integers: accepted only where asked for (NpyReadOptions)
            t.kind = d[1] == 'i' ? Kind::Int : Kind::UInt;
            if (d[2] != '1' && d[2] != '2' && d[2] != '4' && d[2] != '8')
                fail("dtype '" + d + "' is not supported" + supported);
            t.size = d[2] - '0';
            return t;
        }
        switch (d[2]) {
            case '2': t.kind = Kind::F16; t.size = 2; break;
            case '4': t.kind = Kind::F32; t.size = 4; break;
            case '8': t.kind = Kind::F64; t.size = 8; break;
            default: fail("dtype '" + d + "' is not supported" + supported);
        }
        return t;
    }

    const std::string &path_;
    const std::string &s_;
    size_t pos_ = 0;
};

uint64_t read_le(const unsigned char *p, int n) {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; --i) v = (v << 8) | p[i];
    return v;
}

}  // namespace

int64_t NpyArray::numel() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
}

struct NpyReader::Impl {
    std::string path;
    NpyReadOptions options;
    std::ifstream in;
    DType dtype;
    std::vector<int64_t> shape;
    int64_t count = 0;
    uint64_t data_offset = 0;
    std::vector<unsigned char> raw;  // reused between reads
};

NpyReader::NpyReader(const std::string &path, const NpyReadOptions &options) : impl_(std::make_unique<Impl>()) {
    Impl &m = *impl_;
    m.path = path;
    m.options = options;
    std::error_code ec;
    const auto status = std::filesystem::status(path, ec);
    if (ec || !std::filesystem::exists(status)) throw Error(path + ": no such file");
    if (!std::filesystem::is_regular_file(status)) throw Error(path + ": not a regular file");
    const uint64_t file_size = std::filesystem::file_size(path, ec);
    if (ec) throw Error(path + ": cannot read file size: " + ec.message());

    m.in.open(path, std::ios::binary);
    std::ifstream &in = m.in;
    if (!in) throw Error(path + ": cannot open for reading");

    unsigned char pre[12];
    const size_t pre_len = file_size < 12 ? size_t(file_size) : 12;
    if (!in.read(reinterpret_cast<char *>(pre), std::streamsize(pre_len)))
        throw Error(path + ": read error");
    if (pre_len < 6 || std::memcmp(pre, kMagic, 6) != 0)
        throw Error(path + ": not a .npy file (missing the \\x93NUMPY magic)");
    if (pre_len < 8) throw Error(path + ": truncated .npy header");
    const int major = pre[6], minor = pre[7];
    if (!((major == 1 || major == 2 || major == 3) && minor == 0))
        throw Error(path + ": unsupported .npy format version " + std::to_string(major) + "." +
                    std::to_string(minor) + " (supported: 1.0, 2.0, 3.0)");
    const int len_bytes = major == 1 ? 2 : 4;
    if (pre_len < size_t(8 + len_bytes)) throw Error(path + ": truncated .npy header");
    const uint64_t header_len = read_le(pre + 8, len_bytes);
    const uint64_t data_offset = 8 + len_bytes + header_len;
    if (header_len > kMaxHeaderBytes)
        throw Error(path + ": .npy header length " + std::to_string(header_len) +
                    " is implausibly large");
    if (data_offset > file_size)
        throw Error(path + ": truncated .npy header (header says " + std::to_string(header_len) +
                    " bytes, file has " + std::to_string(file_size) + " bytes in all)");

    std::string header_text(size_t(header_len), '\0');
    in.seekg(std::streamoff(8 + len_bytes));
    if (!in.read(header_text.data(), std::streamsize(header_len)))
        throw Error(path + ": read error in .npy header");
    if (header_text.find('\0') != std::string::npos)
        throw Error(path + ": bad .npy header: contains a NUL byte");
    const Header h = HeaderParser(path, header_text).parse();
    const bool integer = h.dtype.kind == Kind::Int || h.dtype.kind == Kind::UInt;
    if (integer && !options.allow_integers)
        throw Error(path + ": dtype '" + h.dtype.descr +
                    "' is not supported (supported: float32 '<f4'; float64 '<f8' and float16 "
                    "'<f2' are converted to float32; big-endian '>' forms too)");

    // Element count with overflow checks, then compare with what the file really holds
    // before anything is allocated.
    const uint64_t available = file_size - data_offset;
    uint64_t count = 1;
    bool overflow = false;
    for (int64_t d : h.shape) {
        if (d != 0 && count > uint64_t(kMaxDim) / uint64_t(d)) overflow = true;
        count = overflow ? 0 : count * uint64_t(d);
        if (overflow) break;
    }
    if (!overflow && count > uint64_t(kMaxDim) / uint64_t(h.dtype.size)) overflow = true;
    if (overflow)
        throw Error(path + ": shape " + shape_text(h.shape) +
                    " has more elements than any file could hold");
    const uint64_t need = count * uint64_t(h.dtype.size);
    if (need > available)
        throw Error(path + ": truncated .npy data: shape " + shape_text(h.shape) + " needs " +
                    std::to_string(need) + " bytes, the file has " + std::to_string(available) +
                    " after the header");
    if (need < available)
        throw Error(path + ": " + std::to_string(available - need) +
                    " unexpected bytes after the data of shape " + shape_text(h.shape));
    m.dtype = h.dtype;
    m.shape = h.shape;
    m.count = int64_t(count);
    m.data_offset = data_offset;
}

NpyReader::~NpyReader() = default;

const std::vector<int64_t> &NpyReader::shape() const { return impl_->shape; }
int64_t NpyReader::numel() const { return impl_->count; }
const std::string &NpyReader::path() const { return impl_->path; }

void NpyReader::read(int64_t first, int64_t count, float *dst) {
    Impl &m = *impl_;
    const std::string &path = m.path;
    if (first < 0 || count < 0 || first > m.count || count > m.count - first)
        throw Error(path + ": elements [" + std::to_string(first) + ", " + std::to_string(first + count) +
                    ") are outside the array's " + std::to_string(m.count));
    if (count == 0) return;
    const int sz = m.dtype.size;
    const uint64_t bytes = uint64_t(count) * uint64_t(sz);
    const DType &t = m.dtype;
    const bool swap = t.little != host_is_little_endian();
    // float32 in the host's byte order (the usual case) goes straight into dst.
    const bool direct = t.kind == Kind::F32 && !swap;
    if (!direct) m.raw.resize(static_cast<size_t>(bytes));
    m.in.clear();
    m.in.seekg(std::streamoff(m.data_offset + uint64_t(first) * uint64_t(sz)));
    if (!m.in.read(direct ? reinterpret_cast<char *>(dst) : reinterpret_cast<char *>(m.raw.data()),
                   std::streamsize(bytes)))
        throw Error(path + ": read error in .npy data");

    const unsigned char *raw = m.raw.data();
    for (int64_t i = 0; i < count && !direct; ++i) {
        unsigned char b[8];
        std::memcpy(b, &raw[size_t(i) * sz], sz);
        if (swap)
            for (int k = 0; k < sz / 2; ++k) std::swap(b[k], b[sz - 1 - k]);
        switch (t.kind) {
            case Kind::F32: std::memcpy(&dst[i], b, 4); break;
            case Kind::F64: {
                double v;
                std::memcpy(&v, b, 8);
                dst[i] = static_cast<float>(v);
                break;
            }
            case Kind::F16: {
                uint16_t v;
                std::memcpy(&v, b, 2);
                dst[i] = half_to_float(v);
                break;
            }
            case Kind::Int:
            case Kind::UInt: {
                uint64_t v = 0;
                for (int k = sz - 1; k >= 0; --k) v = (v << 8) | b[k];
                if (t.kind == Kind::Int && sz < 8 && (v >> (8 * sz - 1)))
                    v |= ~uint64_t(0) << (8 * sz);  // sign extension
                dst[i] = t.kind == Kind::Int ? float(int64_t(v)) : float(v);
                break;
            }
        }
    }
    if (m.options.require_finite) {
        int64_t bad = 0, at = 0;
        for (int64_t i = 0; i < count; ++i)
            if (!std::isfinite(dst[i]) && bad++ == 0) at = i;
        if (bad)
            throw Error(path + ": " + std::to_string(bad) + " non-finite value(s) (NaN or inf" +
                        std::string(t.kind == Kind::F64 ? ", or beyond float32 range" : "") +
                        "), first at flat index " + std::to_string(first + at) + " (value " +
                        std::to_string(dst[at]) + ")");
    }
}

NpyArray read_npy(const std::string &path, const NpyReadOptions &options) {
    NpyReader reader(path, options);
    NpyArray out;
    out.shape = reader.shape();
    out.data.resize(static_cast<size_t>(reader.numel()));
    reader.read(0, reader.numel(), out.data.data());
    return out;
}

static std::string npy_header(const std::string &path, const std::vector<int64_t> &shape, uint64_t &count) {
    count = 1;
    for (int64_t d : shape) {
        if (d < 0) throw Error(path + ": cannot write negative shape " + shape_text(shape));
        count *= uint64_t(d);
    }
    std::string dims;
    for (size_t i = 0; i < shape.size(); ++i) dims += (i ? ", " : "") + std::to_string(shape[i]);
    if (shape.size() == 1) dims += ",";
    std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + dims + "), }";
    // magic(6) + version(2) + length(2) + header + padding + '\n' is a multiple of 64.
    const size_t total = 10 + header.size() + 1;
    header.append((64 - total % 64) % 64, ' ');
    header += '\n';
    if (header.size() > 65535) throw Error(path + ": shape too long for a .npy v1.0 header");

    std::string bytes(kMagic, 6);
    bytes += '\x01';
    bytes += '\x00';
    bytes += char(header.size() & 0xff);
    bytes += char(header.size() >> 8);
    bytes += header;
    return bytes;
}

std::string npy_bytes(const std::string &path, const std::vector<int64_t> &shape, const float *data) {
    uint64_t count = 0;
    std::string bytes = npy_header(path, shape, count);
    const size_t start = bytes.size();
    bytes.resize(start + count * 4);
    std::memcpy(&bytes[start], data, count * 4);
    if (!host_is_little_endian())
        for (uint64_t i = 0; i < count; ++i) {
            std::swap(bytes[start + 4 * i], bytes[start + 4 * i + 3]);
            std::swap(bytes[start + 4 * i + 1], bytes[start + 4 * i + 2]);
        }
    return bytes;
}

struct NpyWriter::Impl {
    std::string path, tmp;
    std::ofstream out;
    uint64_t expected = 0, written = 0;
    bool finished = false;
};

NpyWriter::NpyWriter(const std::string &path, const std::vector<int64_t> &shape) : impl_(std::make_unique<Impl>()) {
    Impl &m = *impl_;
    m.path = path;
    m.tmp = path + ".tmp";
    const std::string header = npy_header(path, shape, m.expected);
    m.out.open(m.tmp, std::ios::binary | std::ios::trunc);
    if (!m.out) throw Error(path + ": cannot open " + m.tmp + " for writing");
    m.out.write(header.data(), std::streamsize(header.size()));
}

NpyWriter::~NpyWriter() {
    if (impl_ && !impl_->finished) {
        impl_->out.close();
        std::remove(impl_->tmp.c_str());
    }
}

void NpyWriter::append(const float *data, int64_t count) {
    Impl &m = *impl_;
    if (m.finished) throw Error(m.path + ": append after the file was finished");
    if (count < 0 || uint64_t(count) > m.expected - m.written)
        throw Error(m.path + ": " + std::to_string(m.written + uint64_t(count)) +
                    " elements written to an array of " + std::to_string(m.expected));
    if (host_is_little_endian()) {
        m.out.write(reinterpret_cast<const char *>(data), std::streamsize(uint64_t(count) * 4));
    } else {
        for (int64_t i = 0; i < count; ++i) {
            unsigned char b[4];
            std::memcpy(b, &data[i], 4);
            std::swap(b[0], b[3]);
            std::swap(b[1], b[2]);
            m.out.write(reinterpret_cast<const char *>(b), 4);
        }
    }
    m.written += uint64_t(count);
    if (!m.out) throw Error(m.path + ": write failed (disk full?)");
}

void NpyWriter::finish() {
    Impl &m = *impl_;
    if (m.finished) return;
    if (m.written != m.expected)
        throw Error(m.path + ": only " + std::to_string(m.written) + " of " + std::to_string(m.expected) +
                    " elements were written");
    m.out.close();
    if (!m.out) throw Error(m.path + ": write failed (disk full?)");
    if (std::rename(m.tmp.c_str(), m.path.c_str()) != 0)
        throw Error(m.path + ": cannot rename " + m.tmp + " into place");
    m.finished = true;
}

void write_npy(const std::string &path, const std::vector<int64_t> &shape, const float *data) {
    uint64_t count = 0;
    npy_header(path, shape, count);  // validates the shape
    NpyWriter writer(path, shape);
    writer.append(data, int64_t(count));
    writer.finish();
}

}  // namespace m1c
