// The checkpoint readers: torch.save zips (through the restricted pickle interpreter) and
// .safetensors. Files from tests/oracle/make_reader_fixtures.py are compared element by
// element with what torch itself holds; hostile and corrupt inputs, many of them built
// here on the fly, must each produce an m1c::Error that starts with the path.
#include <gtest/gtest.h>
#include <zip.h>

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"
#include "frontend/checkpoint.h"
#include "frontend/zip_archive.h"

namespace m1c {
namespace {

namespace fs = std::filesystem;

std::string fixture(const std::string &name) {
    return std::string(M1C_FIXTURES) + "/readers/" + name;
}

std::string read_file(const std::string &path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_file(const std::string &path, const std::string &bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string le(uint64_t v, int bytes) {
    std::string s;
    for (int i = 0; i < bytes; ++i) s += static_cast<char>((v >> (8 * i)) & 0xff);
    return s;
}

using Entries = std::vector<std::pair<std::string, std::string>>;

// A zip written by libzip, entries stored uncompressed as torch.save does.
void write_zip(const std::string &path, const Entries &entries) {
    int code = 0;
    zip_t *z = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &code);
    ASSERT_NE(z, nullptr);
    for (const auto &[name, data] : entries) {
        zip_source_t *src = zip_source_buffer(z, data.data(), data.size(), 0);
        const zip_int64_t index = zip_file_add(z, name.c_str(), src, ZIP_FL_OVERWRITE);
        ASSERT_GE(index, 0);
        zip_set_file_compression(z, static_cast<zip_uint64_t>(index), ZIP_CM_STORE, 0);
    }
    ASSERT_EQ(zip_close(z), 0);
}

Entries read_zip(const std::string &path) {
    const ZipArchive zip(path);
    Entries entries;
    for (const auto &name : zip.entry_names()) {
        const auto bytes = zip.read_entry(name);
        entries.emplace_back(name, std::string(bytes.begin(), bytes.end()));
    }
    return entries;
}

// A one-entry zip written byte by byte, so its headers can declare sizes that are lies.
// Sizes of 2^32 - 1 or more are written as zip64 extra fields.
std::string lying_zip(const std::string &name, uint16_t method, const std::string &data,
                      uint64_t declared_size, uint64_t declared_comp_size) {
    const bool zip64 = declared_size >= 0xffffffffu || declared_comp_size >= 0xffffffffu;
    const std::string extra = zip64 ? le(1, 2) + le(16, 2) + le(declared_size, 8) +
                                          le(declared_comp_size, 8)
                                    : "";
    const uint64_t size32 = zip64 ? 0xffffffffu : declared_size;
    const uint64_t comp32 = zip64 ? 0xffffffffu : declared_comp_size;
    const std::string common = le(zip64 ? 45 : 20, 2) + le(0, 2) + le(method, 2) + le(0, 2) +
                               le(0x21, 2) + le(0, 4) + le(comp32, 4) + le(size32, 4) +
                               le(name.size(), 2) + le(extra.size(), 2);
    const std::string local = le(0x04034b50, 4) + common + name + extra + data;
    const std::string central = le(0x02014b50, 4) + le(45 | (3 << 8), 2) + common + le(0, 2) +
                                le(0, 2) + le(0, 2) + le(0, 4) + le(0, 4) + name + extra;
    const std::string end = le(0x06054b50, 4) + le(0, 2) + le(0, 2) + le(1, 2) + le(1, 2) +
                            le(central.size(), 4) + le(local.size(), 4) + le(0, 2);
    return local + central + end;
}

std::string safetensors_bytes(const std::string &header, const std::string &data) {
    return le(header.size(), 8) + header + data;
}

// Loading `path` must throw m1c::Error whose message starts with the path and contains
// every one of `parts`. Any other exception fails the test through GoogleTest.
void expect_load_error(const std::string &path, const std::vector<std::string> &parts = {}) {
    try {
        load_checkpoint(path);
        ADD_FAILURE() << path << " loaded without an error";
    } catch (const Error &e) {
        const std::string message = e.what();
        EXPECT_EQ(message.rfind(path, 0), 0u) << "message does not start with the path: " << message;
        for (const auto &part : parts)
            EXPECT_NE(message.find(part), std::string::npos)
                << "message lacks '" << part << "': " << message;
    }
}

// Loads `path`, or returns false if it throws m1c::Error (anything else escapes).
bool loads_or_refuses(const std::string &path) {
    try {
        load_checkpoint(path);
        return true;
    } catch (const Error &) {
        return false;
    }
}

class CheckpointReaders : public ::testing::Test {
protected:
    void SetUp() override {
        const auto *info = ::testing::UnitTest::GetInstance()->current_test_info();
        scratch_ = fs::temp_directory_path() /
                   ("m1c_readers_" + std::to_string(::getpid()) + "_" + info->name());
        fs::remove_all(scratch_);
        fs::create_directories(scratch_);
    }
    void TearDown() override { fs::remove_all(scratch_); }
    std::string scratch(const std::string &name) const { return (scratch_ / name).string(); }

private:
    fs::path scratch_;
};

// Every tensor of every loadable fixture equals, bit for bit, torch's float32 conversion.
TEST_F(CheckpointReaders, ValuesMatchTorchExactly) {
    const auto expected = nlohmann::json::parse(read_file(fixture("expected.json")));
    ASSERT_GE(expected.size(), 10u);
    for (const auto &[file, tensors] : expected.items()) {
        SCOPED_TRACE(file);
        const TensorMap loaded = load_checkpoint(fixture(file));
        ASSERT_EQ(loaded.size(), tensors.size());
        for (const auto &[key, want] : tensors.items()) {
            SCOPED_TRACE(key);
            const auto it = loaded.find(key);
            ASSERT_NE(it, loaded.end()) << "missing key";
            const Tensor &t = it->second;
            EXPECT_EQ(t.shape, want["shape"].get<Shape>());
            EXPECT_STREQ(dtype_name(t.source_dtype), want["dtype"].get<std::string>().c_str());
            const auto values = want["values"].get<std::vector<double>>();
            ASSERT_EQ(t.data.size(), values.size());
            for (size_t i = 0; i < values.size(); ++i)
                ASSERT_EQ(t.data[i], static_cast<float>(values[i])) << "element " << i;
        }
    }
}

TEST_F(CheckpointReaders, WrappersPrefixesAndParametersUnwrap) {
    const TensorMap plain = load_checkpoint(fixture("plain.pth"));
    ASSERT_TRUE(plain.count("0.weight") && plain.count("1.num_batches_tracked"));
    for (const char *file : {"wrapped_state_dict.pth", "module_prefix.pth"}) {
        const TensorMap other = load_checkpoint(fixture(file));
        ASSERT_EQ(other.size(), plain.size()) << file;
        for (const auto &[key, t] : plain) {
            ASSERT_TRUE(other.count(key)) << file << ": " << key;
            EXPECT_EQ(other.at(key).data, t.data) << file << ": " << key;
        }
    }
    EXPECT_EQ(load_checkpoint(fixture("parameters.pth")).size(), plain.size());
    EXPECT_EQ(load_checkpoint(fixture("wrapped_model.pth")).size(), plain.size());
}

TEST_F(CheckpointReaders, ViewsAreMaterialisedRowMajor) {
    const TensorMap t = load_checkpoint(fixture("views.pth"));
    const Tensor &base = t.at("base"), &tr = t.at("transposed");
    ASSERT_EQ(tr.shape, (Shape{6, 4}));
    for (int i = 0; i < 6; ++i)
        for (int j = 0; j < 4; ++j) EXPECT_EQ(tr.data[i * 4 + j], base.data[j * 6 + i]);
    EXPECT_EQ(t.at("row").data, std::vector<float>(base.data.begin() + 12, base.data.begin() + 18));
    EXPECT_EQ(t.at("empty").shape, (Shape{0, 3}));
    EXPECT_TRUE(t.at("empty").data.empty());
}

TEST_F(CheckpointReaders, HostileGlobalsAreRefusedNeverRun) {
    const std::pair<const char *, const char *> cases[] = {
        {"hostile_os_system.pth", "os.system"},
        {"hostile_eval.pth", "builtins.eval"},
        {"hostile_nested.pth", "posix.system"},
        {"hostile_storage_type.pth", "os.system"},
        {"whole_model.pth", "torch.nn.modules.linear.Linear"},
    };
    for (const auto &[file, global] : cases) expect_load_error(fixture(file), {"not allowed", global});
    expect_load_error(fixture("hostile_os_system.pth"), {"0x52 (REDUCE)"});
    EXPECT_FALSE(fs::exists(fixture("PWNED")));
}

TEST_F(CheckpointReaders, BadTensorMetadataIsRefused) {
    expect_load_error(fixture("bad_view_past_end.pth"), {"reaches past"});
    expect_load_error(fixture("bad_view_stride_overflow.pth"), {"overflow"});
    expect_load_error(fixture("bad_view_negative_size.pth"), {"negative"});
    expect_load_error(fixture("bad_storage_numel.pth"), {"declares 1000 float32 elements"});
    expect_load_error(fixture("bad_storage_missing.pth"), {"archive/data/7", "missing"});
}

TEST_F(CheckpointReaders, UnsupportedContentIsExplained) {
    expect_load_error(fixture("legacy.pth"), {"legacy", "re-save"});
    expect_load_error(fixture("torchscript.pt"), {"TorchScript"});
    expect_load_error(fixture("non_tensor.pth"), {"'lr'", "not a tensor"});
    expect_load_error(fixture("empty_dict.pth"), {"no tensors"});
}

TEST_F(CheckpointReaders, MissingEmptyAndNonCheckpointFiles) {
    expect_load_error(scratch("does_not_exist.pth"), {"no such file"});
    fs::create_directories(scratch("a_directory.pth"));
    expect_load_error(scratch("a_directory.pth"), {"directory"});
    write_file(scratch("empty.pth"), "");
    expect_load_error(scratch("empty.pth"), {"empty"});

    std::mt19937 rng(7);
    std::string noise(4096, '\0');
    for (char &c : noise) c = static_cast<char>(rng());
    noise[8] = 'x';  // not '{', so this is not mistaken for a safetensors header
    write_file(scratch("noise.bin"), noise);
    expect_load_error(scratch("noise.bin"), {"not a torch.save zip checkpoint or a .safetensors file"});
}

TEST_F(CheckpointReaders, TruncatedZipIsAnError) {
    const std::string whole = read_file(fixture("dtypes.pth"));
    for (size_t size : {whole.size() / 2, size_t{30}, whole.size() - 1}) {
        write_file(scratch("truncated.pth"), whole.substr(0, size));
        expect_load_error(scratch("truncated.pth"));
    }
}

TEST_F(CheckpointReaders, ZipEntriesClaimingHugeSizesAreNotAllocated) {
    // Stored entry whose zip64 header claims 2^60 bytes.
    write_file(scratch("huge_stored.pth"),
               lying_zip("archive/data.pkl", ZIP_CM_STORE, "\x80\x02N.", uint64_t{1} << 60,
                         uint64_t{1} << 60));
    expect_load_error(scratch("huge_stored.pth"));
    // Deflate entry of 2 compressed bytes claiming 4 GB: beyond what deflate can expand to.
    write_file(scratch("huge_deflate.pth"),
               lying_zip("archive/data.pkl", ZIP_CM_DEFLATE, std::string("\x03\x00", 2),
                         0xfffffff0u, 2));
    expect_load_error(scratch("huge_deflate.pth"), {"declares 4294967280 bytes"});
    // A storage entry that says it is larger than the file.
    write_file(scratch("huge_stored32.pth"),
               lying_zip("archive/data.pkl", ZIP_CM_STORE, "\x80\x02N.", 0xfffffff0u, 0xfffffff0u));
    expect_load_error(scratch("huge_stored32.pth"));
}

// Every truncation of a real data.pkl, and many random corruptions, give an error or a
// state dict: never a crash, a hang or a foreign exception.
TEST_F(CheckpointReaders, CorruptPicklesNeverCrash) {
    Entries entries = read_zip(fixture("views.pth"));
    const auto pkl = std::find_if(entries.begin(), entries.end(), [](const auto &e) {
        return e.first.size() > 9 && e.first.compare(e.first.size() - 9, 9, "/data.pkl") == 0;
    });
    ASSERT_NE(pkl, entries.end());
    const std::string original = pkl->second;
    const std::string path = scratch("corrupt.pth");

    for (size_t size = 0; size < original.size(); ++size) {
        pkl->second = original.substr(0, size);
        write_zip(path, entries);
        EXPECT_FALSE(loads_or_refuses(path)) << "prefix of " << size << " bytes loaded";
    }
    std::mt19937 rng(11);
    for (int round = 0; round < 1000; ++round) {
        pkl->second = original;
        for (int flips = 1 + round % 4; flips > 0; --flips)
            pkl->second[rng() % original.size()] = static_cast<char>(rng());
        write_zip(path, entries);
        loads_or_refuses(path);
    }
}

// Opcodes torch.save does not emit but plain pickles may: protocol-0 text numbers and
// memo, POP / POP_MARK / DUP / DICT / LIST; and the interpreter's limits and refusals.
TEST_F(CheckpointReaders, PickleInterpreterCornerCases) {
    using namespace std::string_literals;  // pickles contain NUL bytes
    Entries entries = read_zip(fixture("hostile_nested.pth"));  // archive/data/0: floats 1..4
    const auto with_pickle = [&](const std::string &pickle) {
        for (auto &e : entries)
            if (e.first == "archive/data.pkl") e.second = pickle;
        write_zip(scratch("p.pth"), entries);
        return scratch("p.pth");
    };
    const auto str = [](const std::string &s) { return "X"s + le(s.size(), 4) + s; };
    const auto small = [](int i) { return "K"s + static_cast<char>(i); };
    const std::string tensor = "ctorch._utils\n_rebuild_tensor_v2\n(("s + str("storage") +
                               "ctorch\nFloatStorage\n" + str("0") + str("cpu") + small(4) +
                               "tQ" + small(0) + small(4) + "\x85" + small(1) + "\x85" +
                               "\x89}tR";

    // {"model": {"w": tensor}, "extra": [12, True, 5, 0.25, 0.25]}
    const std::string good = "\x80\x02("s + str("model") + "(" + str("w") + tensor + "d" +
                             str("extra") + "(I12\n(NN1I01\nL5L\nF0.25\np7\n0g7\n2N0l" + "d.";
    const TensorMap loaded = load_checkpoint(with_pickle(good));
    ASSERT_EQ(loaded.size(), 1u);
    EXPECT_EQ(loaded.at("w").data, (std::vector<float>{1, 2, 3, 4}));

    expect_load_error(with_pickle("\x80\x02."s), {"stack underflow"});
    expect_load_error(with_pickle("\x80\x02\xff"s), {"0xff"});
    expect_load_error(with_pickle("\x80\x02h\x05."s), {"memo key 5"});
    expect_load_error(with_pickle("\x80\x02X"s + le(1u << 30, 4) + "ab."), {"truncated"});
    expect_load_error(with_pickle("\x80\x02]N"s), {"without a STOP"});
    expect_load_error(with_pickle("\x80\x06N."s), {"protocol 6"});
    expect_load_error(with_pickle("\x80\x02\x8f."s), {"EMPTY_SET", "not supported"});
    expect_load_error(with_pickle("\x80\x02\x8a\x09"s + std::string(9, '\x01') + "."),
                      {"64 bits"});
    // A list appended to itself, and containers nested a million deep.
    expect_load_error(with_pickle("\x80\x02]q\x00h\x00" "a."s), {"itself"});
    expect_load_error(with_pickle("\x80\x02"s + std::string(1000000, ']') +
                                  std::string(999999, 'a') + "."),
                      {"nest deeper"});
    // Calls of non-globals, and BUILD on anything but a dict.
    expect_load_error(with_pickle("\x80\x02N)R."s), {"not a global"});
    expect_load_error(with_pickle("\x80\x02]}b."s), {"sets the state"});
}

TEST_F(CheckpointReaders, CorruptSafetensorsAreErrors) {
    const std::string ok_entry = R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
    const std::string data(8, '\0');
    const auto check = [&](const std::string &name, const std::string &bytes,
                           const std::vector<std::string> &parts) {
        write_file(scratch(name), bytes);
        expect_load_error(scratch(name), parts);
    };
    // Header length 2^60 followed by '{': sniffed as safetensors, refused before allocating.
    check("huge_header.safetensors", le(uint64_t{1} << 60, 8) + "{}", {"header length"});
    check("past_end.safetensors", le(ok_entry.size() + 1, 8) + ok_entry, {"runs past the end"});
    check("bad_json.safetensors", safetensors_bytes("{\"w\": [", ""), {"not valid JSON"});
    check("not_object.safetensors", safetensors_bytes("{\"w\": 3}", ""), {"'w'"});
    check("offsets_out.safetensors",
          safetensors_bytes(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,16]}})", data),
          {"'w'", "outside the data section"});
    check("offsets_reversed.safetensors",
          safetensors_bytes(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", data),
          {"outside"});
    check("size_mismatch.safetensors",
          safetensors_bytes(R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", data),
          {"needs 3 x 4"});
    check("overflow.safetensors",
          safetensors_bytes(
              R"({"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}})",
              data),
          {"overflows"});
    check("negative_shape.safetensors",
          safetensors_bytes(R"({"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", data),
          {"non-negative"});
    check("bad_dtype.safetensors",
          safetensors_bytes(R"({"w":{"dtype":"C64","shape":[1],"data_offsets":[0,8]}})", data),
          {"C64"});
    check("no_tensors.safetensors", safetensors_bytes(R"({"__metadata__":{}})", ""), {"no tensors"});
    check("short.safetensors", std::string("\x02\x00\x00", 3), {});
}

TEST_F(CheckpointReaders, SafetensorsRoundTrip) {
    for (const char *file : {"dtypes.pth", "views.pth", "hand.safetensors"}) {
        SCOPED_TRACE(file);
        const TensorMap original = load_checkpoint(fixture(file));
        const std::string path = scratch("round_trip.safetensors");
        save_safetensors(path, original);

        const std::string bytes = read_file(path);
        uint64_t header_size = 0;
        for (int i = 7; i >= 0; --i) header_size = (header_size << 8) | static_cast<uint8_t>(bytes[i]);
        EXPECT_EQ(header_size % 8, 0u);
        const auto header = nlohmann::json::parse(bytes.substr(8, header_size));
        std::string previous;
        for (const auto &[key, entry] : header.items()) {
            EXPECT_LT(previous, key);
            previous = key;
            EXPECT_EQ(entry["dtype"], "F32");
        }

        const TensorMap reloaded = load_checkpoint(path);
        ASSERT_EQ(reloaded.size(), original.size());
        for (const auto &[key, t] : original) {
            EXPECT_EQ(reloaded.at(key).shape, t.shape) << key;
            EXPECT_EQ(reloaded.at(key).data, t.data) << key;
            EXPECT_EQ(reloaded.at(key).source_dtype, SourceDType::F32);
        }
    }
}

TEST_F(CheckpointReaders, SaveSafetensorsReportsBadInput) {
    TensorMap bad;
    bad["w"] = Tensor(Shape{2, 2}, {1, 2, 3});
    try {
        save_safetensors(scratch("bad.safetensors"), bad);
        ADD_FAILURE() << "saved a tensor whose data does not match its shape";
    } catch (const Error &e) {
        EXPECT_NE(std::string(e.what()).find("'w'"), std::string::npos) << e.what();
    }
    TensorMap good;
    good["w"] = Tensor(Shape{1}, {1});
    EXPECT_THROW(save_safetensors(scratch("no_such_dir/x.safetensors"), good), Error);
}

}  // namespace
}  // namespace m1c
