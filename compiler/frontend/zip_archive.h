// Read-only access to the entries of a zip archive, as written by torch.save (PyTorch >= 1.6).
// Built on libzip, a maintained library, rather than a hand-written zip parser: zip has many
// corner cases (zip64, data descriptors, extra fields) that we have no reason to own.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

struct zip;  // libzip's archive handle; kept out of this header so users need not include zip.h

namespace m1c {

class ZipArchive {
public:
    // Opens `path`. Throws m1c::Error naming the path if it is not a readable zip archive
    // (truncated, corrupt, not a zip at all).
    explicit ZipArchive(const std::string &path);
    ~ZipArchive();
    ZipArchive(const ZipArchive &) = delete;
    ZipArchive &operator=(const ZipArchive &) = delete;

    const std::string &path() const { return path_; }
    uint64_t file_size() const { return file_size_; }
    std::vector<std::string> entry_names() const;
    bool has_entry(const std::string &name) const;

    // The whole uncompressed content of entry `name`. The size the archive declares is checked
    // against the size of the file (and `max_bytes`) before anything is allocated, so a header
    // claiming 2^60 bytes is an error, not an allocation. Throws m1c::Error naming path and entry.
    std::vector<uint8_t> read_entry(const std::string &name,
                                    uint64_t max_bytes = UINT64_MAX) const;

private:
    std::string path_;
    uint64_t file_size_ = 0;
    struct zip *archive_ = nullptr;
};

}  // namespace m1c
