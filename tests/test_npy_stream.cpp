// NpyReader / NpyWriter: .npy a slice at a time (what `m1c run` reads big test sets with).
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "core/error.h"
#include "npy.h"
#include "test_helpers.h"

namespace fs = std::filesystem;

namespace {
std::string scratch(const std::string &name) {
    return (m1c::test::fresh_dir("test_npy_stream", name) / "a.npy").string();
}
std::vector<float> iota(size_t n) {
    std::vector<float> v(n);
    for (size_t i = 0; i < n; ++i) v[i] = float(i) * 0.25f - 7.0f;
    return v;
}
}  // namespace

TEST(NpyStream, SlicesEqualTheWholeArray) {
    const std::string path = scratch("slices");
    const std::vector<float> x = iota(5 * 3 * 4);
    m1c::write_npy(path, {5, 3, 4}, x.data());
    m1c::NpyReader r(path);
    EXPECT_EQ(r.shape(), (std::vector<int64_t>{5, 3, 4}));
    EXPECT_EQ(r.numel(), 60);
    // Out of order, overlapping, and of every size.
    for (int64_t first : {37, 0, 59, 12}) {
        for (int64_t n : {int64_t(0), int64_t(1), 60 - first}) {
            std::vector<float> got(size_t(n) + 1, -1.0f);
            r.read(first, n, got.data());
            for (int64_t i = 0; i < n; ++i) EXPECT_EQ(got[size_t(i)], x[size_t(first + i)]) << first << "+" << i;
            EXPECT_EQ(got[size_t(n)], -1.0f);  // nothing written past the slice
        }
    }
    std::vector<float> one(1);
    EXPECT_THROW(r.read(59, 2, one.data()), m1c::Error);
    EXPECT_THROW(r.read(-1, 1, one.data()), m1c::Error);
}

TEST(NpyStream, NonFiniteValueNamedByItsFlatIndexInTheWholeArray) {
    const std::string path = scratch("nan");
    std::vector<float> x = iota(40);
    x[33] = NAN;
    m1c::write_npy(path, {40}, x.data());
    m1c::NpyReader r(path);  // opening reads no data
    std::vector<float> got(40);
    r.read(0, 30, got.data());
    try {
        r.read(30, 10, got.data());
        FAIL() << "NaN not reported";
    } catch (const m1c::Error &e) {
        EXPECT_NE(std::string(e.what()).find("first at flat index 33"), std::string::npos) << e.what();
    }
}

TEST(NpyStream, WriterAppendsAndRenamesOnlyWhenComplete) {
    const std::string path = scratch("writer");
    const std::vector<float> x = iota(12);
    {
        m1c::NpyWriter w(path, {4, 3});
        w.append(x.data(), 5);
        w.append(x.data() + 5, 7);
        EXPECT_FALSE(fs::exists(path));
        w.finish();
    }
    const m1c::NpyArray a = m1c::read_npy(path);
    EXPECT_EQ(a.shape, (std::vector<int64_t>{4, 3}));
    EXPECT_EQ(a.data, x);

    const std::string partial = scratch("partial");
    {
        m1c::NpyWriter w(partial, {4, 3});
        w.append(x.data(), 6);
        EXPECT_THROW(w.append(x.data(), 7), m1c::Error);  // past the end
        EXPECT_THROW(w.finish(), m1c::Error);             // 6 of 12
    }
    EXPECT_FALSE(fs::exists(partial));
    EXPECT_FALSE(fs::exists(partial + ".tmp"));  // an unfinished writer leaves nothing
}
