// load_checkpoint: pick the reader by content, then turn what it read into a state dict.
#include "frontend/checkpoint.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "frontend/safetensors.h"
#include "frontend/torch_checkpoint.h"

namespace m1c {
namespace {

namespace fs = std::filesystem;
using pickle::Value;

enum class FileKind { TorchZip, Safetensors };

// Checks the path is a non-empty regular file and sniffs its first bytes.
FileKind sniff(const std::string &path) {
    std::error_code ec;
    const fs::file_status status = fs::status(path, ec);
    if (!fs::exists(status)) throw Error(path + ": no such file");
    if (fs::is_directory(status)) throw Error(path + ": is a directory, not a checkpoint file");
    if (!fs::is_regular_file(status)) throw Error(path + ": not a regular file");
    if (fs::file_size(path, ec) == 0 && !ec) throw Error(path + ": file is empty");

    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(path + ": cannot open: " + std::strerror(errno));
    uint8_t head[16] = {};
    in.read(reinterpret_cast<char *>(head), sizeof head);
    const auto got = static_cast<size_t>(in.gcount());

    // A zip starts with a local file header (or, if it has no entries, the end record).
    if (got >= 4 && head[0] == 'P' && head[1] == 'K' &&
        ((head[2] == 3 && head[3] == 4) || (head[2] == 5 && head[3] == 6)))
        return FileKind::TorchZip;
    // Safetensors first: its 8-byte length may start with 0x80 0x02 like a pickle does.
    if (looks_like_safetensors(head, got)) return FileKind::Safetensors;
    if (looks_like_legacy_torch(head, got))
        throw Error(path + ": a bare pickle, i.e. the legacy torch.save format (PyTorch < 1.6, "
                    "or _use_new_zipfile_serialization=False), which is not supported; "
                    "re-save it with a newer torch: torch.save(torch.load(old), new)");
    throw Error(path + ": not a torch.save zip checkpoint or a .safetensors file");
}

// The dict of tensors inside the pickled object: the object itself, or the dict it wraps
// under "state_dict" or "model" (training checkpoints; their other entries are ignored).
const Value &find_state_dict(const std::string &path, const Value &root) {
    if (root.kind != Value::Kind::Dict)
        throw Error(path + ": the checkpoint holds " + describe(root) +
                    ", not a state dict (a dict of tensors)");
    for (const char *wrapper : {"state_dict", "model"}) {
        const Value *inner = pickle::dict_find(root, wrapper);
        if (inner && inner->kind == Value::Kind::Dict) return *inner;
    }
    return root;
}

TensorMap tensors_of(const std::string &path, const Value &dict) {
    TensorMap tensors;
    for (const auto &[key, value] : dict.entries) {
        if (key->kind != Value::Kind::String)
            throw Error(path + ": state dict key " + describe(*key) + " is not a string");
        const Tensor *t = as_tensor(*value);
        if (!t)
            throw Error(path + ": state dict entry '" + key->text + "' is " + describe(*value) +
                        ", not a tensor");
        tensors[key->text] = *t;  // a repeated key keeps its last value, as in Python
    }
    return tensors;
}

// nn.DataParallel saves every key as "module.<name>". Only strip when all keys have it, so
// a model with a submodule genuinely called "module" keeps its names.
TensorMap strip_module_prefix(TensorMap tensors) {
    const std::string prefix = "module.";
    for (const auto &[key, t] : tensors)
        if (key.compare(0, prefix.size(), prefix) != 0) return tensors;
    TensorMap stripped;
    for (auto &[key, t] : tensors) stripped[key.substr(prefix.size())] = std::move(t);
    return stripped;
}

}  // namespace

TensorMap load_checkpoint(const std::string &path) {
    TensorMap tensors;
    if (sniff(path) == FileKind::TorchZip) {
        const pickle::ValuePtr root = read_torch_zip(path);
        tensors = tensors_of(path, find_state_dict(path, *root));
    } else {
        tensors = read_safetensors(path);
    }
    if (tensors.empty()) throw Error(path + ": the state dict holds no tensors");
    return strip_module_prefix(std::move(tensors));
}

void save_safetensors(const std::string &path, const TensorMap &tensors) {
    write_safetensors(path, tensors);
}

}  // namespace m1c
