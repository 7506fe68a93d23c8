#include "frontend/torch_checkpoint.h"

#include <algorithm>
#include <map>
#include <memory>
#include <vector>

#include "core/error.h"
#include "frontend/safetensors.h"  // element_size, decode_elements
#include "frontend/zip_archive.h"

namespace m1c {
namespace {

using pickle::Value;
using pickle::ValuePtr;

// data.pkl of a real state dict is a few hundred KB; anything near this is not a checkpoint.
constexpr uint64_t kMaxPickleBytes = uint64_t{1} << 30;
constexpr size_t kMaxDims = 64;
// Views may repeat or broadcast (stride 0) a storage, so the float32 tensors we build can
// exceed the file. Bound the total so a tiny hostile file cannot demand terabytes.
constexpr uint64_t kOutputBudgetPerFileByte = 16;
constexpr uint64_t kOutputBudgetSlack = uint64_t{256} << 20;

const char *const kCallableGlobals[] = {
    "collections.OrderedDict",
    "torch._utils._rebuild_tensor_v2",
    "torch._utils._rebuild_parameter",
};

struct StorageType {
    const char *global;
    SourceDType dtype;
};
const StorageType kStorageTypes[] = {
    {"torch.FloatStorage", SourceDType::F32},  {"torch.HalfStorage", SourceDType::F16},
    {"torch.BFloat16Storage", SourceDType::BF16}, {"torch.DoubleStorage", SourceDType::F64},
    {"torch.LongStorage", SourceDType::I64},   {"torch.IntStorage", SourceDType::I32},
    {"torch.ShortStorage", SourceDType::I16},  {"torch.CharStorage", SourceDType::I8},
    {"torch.ByteStorage", SourceDType::U8},    {"torch.BoolStorage", SourceDType::Bool},
};

// A typed storage: raw bytes of one zip entry (shared by every view of it) and the dtype
// and element count its persistent id declares.
struct StorageObject : pickle::Object {
    std::shared_ptr<const std::vector<uint8_t>> bytes;
    SourceDType dtype = SourceDType::F32;
    int64_t numel = 0;
    std::string key;
    std::string type_name() const override { return "storage"; }
};

struct TensorObject : pickle::Object {
    Tensor tensor;
    std::string type_name() const override { return "tensor"; }
};

ValuePtr make_object(std::shared_ptr<pickle::Object> object) {
    auto v = std::make_shared<Value>();
    v->kind = Value::Kind::Object;
    v->object = std::move(object);
    return v;
}

int64_t int_arg(const Value &v, const std::string &what) {
    if (v.kind != Value::Kind::Int) throw Error(what + " is " + describe(v) + ", not an int");
    return v.integer;
}

std::vector<int64_t> int_tuple_arg(const Value &v, const std::string &what) {
    if (v.kind != Value::Kind::Tuple)
        throw Error(what + " is " + describe(v) + ", not a tuple of ints");
    if (v.items.size() > kMaxDims)
        throw Error(what + " has " + std::to_string(v.items.size()) + " dimensions");
    std::vector<int64_t> out;
    for (const auto &item : v.items) out.push_back(int_arg(*item, what + " element"));
    return out;
}

bool is_row_major(const Shape &sizes, const std::vector<int64_t> &strides) {
    int64_t expected = 1;
    for (size_t d = sizes.size(); d-- > 0;) {
        if (sizes[d] != 1 && strides[d] != expected) return false;
        expected *= sizes[d];
    }
    return true;
}

// Copies the view (offset, sizes, strides) of `storage` into a contiguous row-major float32
// tensor. Every index is proven inside the storage first, with overflow-checked arithmetic;
// strides are non-negative in torch, so the last element bounds them all.
Tensor materialise(const StorageObject &storage, int64_t offset, const Shape &sizes,
                   const std::vector<int64_t> &strides, uint64_t &budget) {
    const std::string view = "view of storage '" + storage.key + "' (offset " +
                             std::to_string(offset) + ", size " + shape_str(sizes) +
                             ", stride " + shape_str(strides) + ")";
    if (sizes.size() != strides.size()) throw Error(view + ": size and stride differ in length");
    if (offset < 0) throw Error(view + ": negative offset");
    int64_t count = 1, last = offset;
    for (size_t d = 0; d < sizes.size(); ++d) {
        if (sizes[d] < 0 || strides[d] < 0) throw Error(view + ": negative size or stride");
        int64_t reach = 0;
        if (__builtin_mul_overflow(count, sizes[d], &count) ||
            (sizes[d] > 0 && (__builtin_mul_overflow(sizes[d] - 1, strides[d], &reach) ||
                              __builtin_add_overflow(last, reach, &last))))
            throw Error(view + ": overflows 64-bit indexing");
    }
    if (count == 0 ? offset > storage.numel : last >= storage.numel)
        throw Error(view + " reaches past the " + std::to_string(storage.numel) +
                    " elements of the storage");
    const uint64_t out_bytes = static_cast<uint64_t>(count) * sizeof(float);
    if (out_bytes > budget)
        throw Error(view + " would need " + std::to_string(out_bytes) +
                    " bytes; the tensors of this file exceed the memory allowed for its size");
    budget -= out_bytes;

    Tensor t;
    t.shape = sizes;
    t.source_dtype = storage.dtype;
    t.data.resize(static_cast<size_t>(count));
    if (count == 0) return t;
    const size_t esize = element_size(storage.dtype);
    const uint8_t *base = storage.bytes->data();
    if (is_row_major(sizes, strides)) {
        decode_elements(storage.dtype, base + offset * esize, t.data.size(), t.data.data());
        return t;
    }
    // Rows along the last dimension; an odometer over the others.
    const size_t outer_dims = sizes.size() - 1;
    const int64_t row = sizes.back(), row_stride = strides.back();
    std::vector<int64_t> index(outer_dims, 0);
    float *dst = t.data.data();
    for (int64_t r = 0; r < count / row; ++r) {
        int64_t start = offset;
        for (size_t d = 0; d < outer_dims; ++d) start += index[d] * strides[d];
        if (row_stride == 1) {
            decode_elements(storage.dtype, base + start * esize, row, dst);
        } else {
            for (int64_t i = 0; i < row; ++i)
                decode_elements(storage.dtype, base + (start + i * row_stride) * esize, 1, dst + i);
        }
        dst += row;
        for (size_t d = outer_dims; d-- > 0;) {
            if (++index[d] < sizes[d]) break;
            index[d] = 0;
        }
    }
    return t;
}

// What the pickle interpreter may do inside a torch.save archive.
class TorchHost : public pickle::Host {
public:
    TorchHost(const ZipArchive &zip, std::string folder, uint64_t output_budget)
        : zip_(zip), folder_(std::move(folder)), budget_(output_budget) {}

    bool allows_call(const std::string &global) const override {
        return std::find(std::begin(kCallableGlobals), std::end(kCallableGlobals), global) !=
               std::end(kCallableGlobals);
    }

    ValuePtr call(const std::string &global, const std::vector<ValuePtr> &args) override {
        if (global == "collections.OrderedDict") {
            // OrderedDict.__reduce__ passes no arguments; the items follow as SETITEMS.
            if (!args.empty()) throw Error("OrderedDict called with arguments");
            auto dict = std::make_shared<Value>();
            dict->kind = Value::Kind::Dict;
            return dict;
        }
        if (global == "torch._utils._rebuild_tensor_v2") return rebuild_tensor(args);
        if (global == "torch._utils._rebuild_parameter") {
            // _rebuild_parameter(data, requires_grad, backward_hooks): a Parameter is its data.
            if (args.size() != 3 || !as_tensor(*args[0]))
                throw Error("_rebuild_parameter expects (tensor, requires_grad, hooks)");
            return args[0];
        }
        throw Error("internal error: no implementation for allowed global " + global);
    }

    // ('storage', torch.<Type>Storage, key, location, numel) -> the storage in data/<key>.
    ValuePtr persistent_load(const Value &pid) override {
        if (pid.kind != Value::Kind::Tuple || pid.items.size() != 5 ||
            pid.items[0]->kind != Value::Kind::String || pid.items[0]->text != "storage")
            throw Error("persistent id is " + describe(pid) +
                        ", expected ('storage', type, key, location, numel)");
        const Value &type = *pid.items[1];
        const Value &key = *pid.items[2];
        if (key.kind != Value::Kind::String || key.text.empty())
            throw Error("storage key is " + describe(key) + ", not a string");

        auto storage = std::make_shared<StorageObject>();
        storage->key = key.text;
        storage->dtype = storage_dtype(type);
        storage->numel = int_arg(*pid.items[4], "storage element count");
        storage->bytes = storage_bytes(key.text);
        uint64_t needed = 0;
        if (storage->numel < 0 ||
            __builtin_mul_overflow(static_cast<uint64_t>(storage->numel),
                                   element_size(storage->dtype), &needed) ||
            needed > storage->bytes->size())
            throw Error("storage '" + key.text + "' declares " + std::to_string(storage->numel) +
                        " " + dtype_name(storage->dtype) + " elements but its entry holds " +
                        std::to_string(storage->bytes->size()) + " bytes");
        return make_object(storage);
    }

private:
    static SourceDType storage_dtype(const Value &type) {
        if (type.kind == Value::Kind::Global) {
            for (const auto &t : kStorageTypes)
                if (type.text == t.global) return t.dtype;
        }
        throw Error("storage type " + describe(type) + " is not allowed");
    }

    // One zip entry per key, read once however many tensors view it.
    std::shared_ptr<const std::vector<uint8_t>> storage_bytes(const std::string &key) {
        auto &cached = storages_[key];
        if (cached) return cached;
        try {
            cached = std::make_shared<const std::vector<uint8_t>>(
                zip_.read_entry(folder_ + "/data/" + key));
        } catch (const Error &e) {
            // The interpreter prefixes the file name; do not repeat it.
            std::string message = e.what();
            const std::string prefix = zip_.path() + ": ";
            if (message.compare(0, prefix.size(), prefix) == 0) message.erase(0, prefix.size());
            throw Error(message);
        }
        return cached;
    }

    // _rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks[, metadata]).
    ValuePtr rebuild_tensor(const std::vector<ValuePtr> &args) {
        if (args.size() != 6 && args.size() != 7)
            throw Error("_rebuild_tensor_v2 expects 6 or 7 arguments, got " +
                        std::to_string(args.size()));
        const auto *storage =
            args[0]->kind == Value::Kind::Object
                ? dynamic_cast<const StorageObject *>(args[0]->object.get())
                : nullptr;
        if (!storage)
            throw Error("_rebuild_tensor_v2 storage is " + describe(*args[0]) + ", not a storage");
        auto tensor = std::make_shared<TensorObject>();
        tensor->tensor = materialise(*storage, int_arg(*args[1], "storage offset"),
                                     int_tuple_arg(*args[2], "tensor size"),
                                     int_tuple_arg(*args[3], "tensor stride"), budget_);
        return make_object(tensor);
    }

    const ZipArchive &zip_;
    std::string folder_;
    uint64_t budget_;
    std::map<std::string, std::shared_ptr<const std::vector<uint8_t>>> storages_;
};

// The single top-level folder holding data.pkl ("archive" in recent torch, the file's stem in
// older ones).
std::string find_folder(const ZipArchive &zip) {
    std::vector<std::string> folders;
    for (const std::string &name : zip.entry_names()) {
        const size_t slash = name.find('/');
        if (slash == std::string::npos || name.find('/', slash + 1) != std::string::npos) continue;
        const std::string file = name.substr(slash + 1);
        if (file == "constants.pkl")
            throw Error(zip.path() + ": a TorchScript archive (torch.jit.save), not a state dict; "
                        "save one with torch.save(model.state_dict(), path)");
        if (file == "data.pkl") folders.push_back(name.substr(0, slash));
    }
    if (folders.empty())
        throw Error(zip.path() + ": zip archive has no <folder>/data.pkl: not a torch.save checkpoint");
    if (folders.size() > 1)
        throw Error(zip.path() + ": zip archive has several */data.pkl entries (" + folders[0] +
                    ", " + folders[1] + "): not a single torch.save checkpoint");
    return folders[0];
}

void check_byteorder(const ZipArchive &zip, const std::string &folder) {
    const std::string name = folder + "/byteorder";
    if (!zip.has_entry(name)) return;  // absent before torch 2.1: little-endian
    const std::vector<uint8_t> bytes = zip.read_entry(name, 16);
    const std::string order(bytes.begin(), bytes.end());
    if (order != "little")
        throw Error(zip.path() + ": storages are '" + order + "'-endian; only little is supported");
}

}  // namespace

pickle::ValuePtr read_torch_zip(const std::string &path) {
    const ZipArchive zip(path);
    const std::string folder = find_folder(zip);
    check_byteorder(zip, folder);
    const std::string pkl_name = folder + "/data.pkl";
    const std::vector<uint8_t> pkl = zip.read_entry(pkl_name, kMaxPickleBytes);

    TorchHost host(zip, folder, kOutputBudgetSlack + zip.file_size() * kOutputBudgetPerFileByte);
    return pickle::unpickle(pkl.data(), pkl.size(), host, pickle::Source{path, pkl_name});
}

const Tensor *as_tensor(const pickle::Value &value) {
    if (value.kind != pickle::Value::Kind::Object) return nullptr;
    const auto *t = dynamic_cast<const TensorObject *>(value.object.get());
    return t ? &t->tensor : nullptr;
}

bool looks_like_legacy_torch(const uint8_t *head, size_t head_size) {
    // PROTO opcode then a protocol number: a bare pickle. Legacy torch.save starts with
    // protocol 2 and a magic number; a plain pickle.dump file looks the same to us.
    return head_size >= 2 && head[0] == 0x80 && head[1] >= 2 && head[1] <= 5;
}

}  // namespace m1c
