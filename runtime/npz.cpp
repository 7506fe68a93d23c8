#include "npz.h"

#include <zip.h>

#include "core/error.h"
#include "npy.h"

namespace m1c {

// Written with libzip (already read through for checkpoints): members stored, not
// compressed, as numpy's np.savez does; libzip writes to a temporary file and renames it
// into place on zip_close, so a failed write leaves no partial .npz.
void write_npz(const std::string &path, const std::vector<NpzMember> &members) {
    // Every member encoded first: a bad shape fails before the file is touched, and the
    // buffers live until zip_close reads them.
    std::vector<std::string> bytes;
    for (const NpzMember &m : members) bytes.push_back(npy_bytes(path + " (" + m.name + ".npy)", m.shape, m.data));
    int code = 0;
    zip_t *za = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &code);
    if (!za) {
        zip_error_t e;
        zip_error_init_with_code(&e, code);
        const std::string why = zip_error_strerror(&e);
        zip_error_fini(&e);
        throw Error(path + ": cannot write: " + why);
    }
    for (size_t i = 0; i < members.size(); ++i) {
        const std::string name = members[i].name + ".npy";
        zip_source_t *src = zip_source_buffer(za, bytes[i].data(), bytes[i].size(), 0);
        const zip_int64_t index = src ? zip_file_add(za, name.c_str(), src, ZIP_FL_OVERWRITE) : -1;
        if (index < 0 || zip_set_file_compression(za, zip_uint64_t(index), ZIP_CM_STORE, 0) != 0) {
            if (src && index < 0) zip_source_free(src);
            const std::string why = zip_strerror(za);
            zip_discard(za);
            throw Error(path + ": cannot add " + name + ": " + why);
        }
    }
    if (zip_close(za) != 0) {
        const std::string why = zip_strerror(za);
        zip_discard(za);
        throw Error(path + ": write failed: " + why);
    }
}

}  // namespace m1c
