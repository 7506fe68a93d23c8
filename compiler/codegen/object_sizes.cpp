// static_library_sizes: walks the ar members and sums ELF64 section sizes by flags.
#include "codegen/object_sizes.h"

#include <cstring>
#include <fstream>
#include <iterator>
#include <vector>

#include "core/error.h"

namespace m1c::codegen {

namespace {

template <typename T>
T read_le(const unsigned char *p) {
    T v = 0;
    for (size_t i = 0; i < sizeof(T); ++i) v |= T(p[i]) << (8 * i);
    return v;
}

// Adds one member's sections; false if it is not a little-endian ELF64 object. `code`, if
// given, receives the bytes of every executable section.
bool add_elf(const unsigned char *obj, size_t size, ObjectSizes &out,
             std::vector<std::vector<unsigned char>> *code = nullptr) {
    if (size < 64 || std::memcmp(obj, "\x7f" "ELF", 4) != 0 || obj[4] != 2 /*64-bit*/ ||
        obj[5] != 1 /*little-endian*/)
        return false;
    const uint64_t shoff = read_le<uint64_t>(obj + 0x28);
    const uint16_t shentsize = read_le<uint16_t>(obj + 0x3a), shnum = read_le<uint16_t>(obj + 0x3c);
    if (shentsize < 64 || shoff > size || uint64_t(shnum) * shentsize > size - shoff) return false;
    constexpr uint64_t SHF_WRITE = 1, SHF_ALLOC = 2, SHF_EXECINSTR = 4;
    constexpr uint32_t SHT_NOBITS = 8;
    for (uint16_t i = 0; i < shnum; ++i) {
        const unsigned char *sh = obj + shoff + uint64_t(i) * shentsize;
        const uint32_t type = read_le<uint32_t>(sh + 4);
        const uint64_t flags = read_le<uint64_t>(sh + 8);
        const uint64_t offset = read_le<uint64_t>(sh + 24);
        const int64_t bytes = int64_t(read_le<uint64_t>(sh + 32));
        if (!(flags & SHF_ALLOC)) continue;
        if (flags & SHF_EXECINSTR) {
            out.code_bytes += bytes;
            if (code && type != SHT_NOBITS && offset <= size && uint64_t(bytes) <= size - offset)
                code->emplace_back(obj + offset, obj + offset + bytes);
        }
        else if (type == SHT_NOBITS)
            out.bss_bytes += bytes;
        else if (flags & SHF_WRITE)
            out.data_bytes += bytes;
        else
            out.rodata_bytes += bytes;
    }
    return true;
}

}  // namespace

namespace {
// Walks the archive's members; false unless every member is an ELF64 object.
bool walk_archive(const std::string &path, ObjectSizes &out,
                  std::vector<std::vector<unsigned char>> *code) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(path + ": cannot open");
    std::vector<unsigned char> a((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (a.size() < 8 || std::memcmp(a.data(), "!<arch>\n", 8) != 0) return false;
    size_t pos = 8;
    bool any = false;
    while (pos + 60 <= a.size()) {
        const unsigned char *h = a.data() + pos;
        const std::string name(reinterpret_cast<const char *>(h), 16);
        const long long size = std::atoll(std::string(reinterpret_cast<const char *>(h + 48), 10).c_str());
        pos += 60;
        if (size < 0 || size_t(size) > a.size() - pos) return false;
        const bool special = name.rfind("/ ", 0) == 0 || name.rfind("// ", 0) == 0 ||
                             name.rfind("/SYM64/", 0) == 0;
        if (!special) {
            if (!add_elf(a.data() + pos, size_t(size), out, code)) return false;
            any = true;
        }
        pos += size_t(size) + (size_t(size) & 1);
    }
    return any;
}
}  // namespace

ObjectSizes static_library_sizes(const std::string &path) {
    ObjectSizes out;
    if (!walk_archive(path, out, nullptr)) return ObjectSizes{};
    out.known = true;
    return out;
}

std::vector<std::vector<unsigned char>> static_library_code(const std::string &path) {
    ObjectSizes sizes;
    std::vector<std::vector<unsigned char>> code;
    if (!walk_archive(path, sizes, &code)) return {};
    return code;
}

}  // namespace m1c::codegen
