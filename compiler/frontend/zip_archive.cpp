#include "frontend/zip_archive.h"

#include <zip.h>

#include <filesystem>
#include <memory>
#include <system_error>

#include "core/error.h"

namespace m1c {
namespace {

// Deflate cannot expand data by more than about 1032:1, so an entry whose declared size
// exceeds that bound of its compressed size is lying. (torch.save stores entries
// uncompressed; deflate is accepted for archives that were re-zipped by hand.)
constexpr uint64_t kMaxDeflateRatio = 1032;

std::string libzip_message(int code) {
    zip_error_t error;
    zip_error_init_with_code(&error, code);
    std::string message = zip_error_strerror(&error);
    zip_error_fini(&error);
    return message;
}

struct FileCloser {
    void operator()(zip_file_t *file) const { zip_fclose(file); }
};

}  // namespace

ZipArchive::ZipArchive(const std::string &path) : path_(path) {
    std::error_code ec;
    file_size_ = std::filesystem::file_size(path, ec);
    if (ec) throw Error(path + ": cannot read file: " + ec.message());

    int code = 0;
    // ZIP_CHECKCONS: also cross-check the central directory against the local headers.
    archive_ = zip_open(path.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &code);
    if (!archive_)
        throw Error(path + ": not a readable zip archive (truncated or corrupt?): " +
                    libzip_message(code));
}

ZipArchive::~ZipArchive() {
    if (archive_) zip_discard(archive_);  // read-only: nothing to write back
}

std::vector<std::string> ZipArchive::entry_names() const {
    std::vector<std::string> names;
    const zip_int64_t count = zip_get_num_entries(archive_, 0);
    for (zip_int64_t i = 0; i < count; ++i) {
        const char *name = zip_get_name(archive_, static_cast<zip_uint64_t>(i), 0);
        if (name) names.emplace_back(name);
    }
    return names;
}

bool ZipArchive::has_entry(const std::string &name) const {
    return zip_name_locate(archive_, name.c_str(), 0) >= 0;
}

std::vector<uint8_t> ZipArchive::read_entry(const std::string &name, uint64_t max_bytes) const {
    const std::string where = path_ + ": zip entry '" + name + "'";
    const zip_int64_t index = zip_name_locate(archive_, name.c_str(), 0);
    if (index < 0) throw Error(where + " is missing");

    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(archive_, static_cast<zip_uint64_t>(index), 0, &st) != 0)
        throw Error(where + ": cannot stat: " + zip_strerror(archive_));
    const zip_uint64_t needed = ZIP_STAT_SIZE | ZIP_STAT_COMP_SIZE | ZIP_STAT_COMP_METHOD;
    if ((st.valid & needed) != needed) throw Error(where + ": sizes are not recorded");

    // All size checks happen here, before the buffer below is allocated.
    if (st.comp_size > file_size_)
        throw Error(where + " declares " + std::to_string(st.comp_size) +
                    " stored bytes but the file has only " + std::to_string(file_size_));
    if (st.comp_method == ZIP_CM_STORE) {
        if (st.size != st.comp_size)
            throw Error(where + " is stored uncompressed but declares " +
                        std::to_string(st.size) + " bytes of content in " +
                        std::to_string(st.comp_size) + " stored bytes");
    } else if (st.comp_method == ZIP_CM_DEFLATE) {
        if (st.size / kMaxDeflateRatio > st.comp_size)
            throw Error(where + " declares " + std::to_string(st.size) +
                        " bytes, more than its " + std::to_string(st.comp_size) +
                        " compressed bytes can hold");
    } else {
        throw Error(where + " uses zip compression method " + std::to_string(st.comp_method) +
                    "; only stored and deflate entries are supported");
    }
    if (st.size > max_bytes)
        throw Error(where + " is " + std::to_string(st.size) + " bytes, more than the " +
                    std::to_string(max_bytes) + " allowed for it");

    std::unique_ptr<zip_file_t, FileCloser> file(
        zip_fopen_index(archive_, static_cast<zip_uint64_t>(index), 0));
    if (!file) throw Error(where + ": cannot open: " + zip_strerror(archive_));

    std::vector<uint8_t> bytes(static_cast<size_t>(st.size));
    uint64_t done = 0;
    while (done < bytes.size()) {
        const zip_int64_t got = zip_fread(file.get(), bytes.data() + done, bytes.size() - done);
        if (got < 0)
            throw Error(where + ": cannot read (truncated or corrupt?): " +
                        zip_file_strerror(file.get()));
        if (got == 0) break;
        done += static_cast<uint64_t>(got);
    }
    if (done != bytes.size())
        throw Error(where + " ended after " + std::to_string(done) + " of " +
                    std::to_string(bytes.size()) + " bytes (truncated?)");
    // One more read to reach end-of-entry: that is when libzip verifies the CRC, and it also
    // catches content longer than declared.
    uint8_t extra = 0;
    const zip_int64_t tail = zip_fread(file.get(), &extra, 1);
    if (tail < 0) throw Error(where + " is corrupt: " + zip_file_strerror(file.get()));
    if (tail > 0) throw Error(where + " holds more bytes than its header declares");
    return bytes;
}

}  // namespace m1c
