#include "quant/calibration.h"

#include <cmath>
#include <filesystem>
#include <fstream>

#include "core/error.h"

namespace m1c::quant {

const TensorRanges *Calibration::find(const std::string &name) const {
    for (const TensorRanges &t : tensors)
        if (t.name == name) return &t;
    return nullptr;
}

QuantParams quant_params(const Range &r) {
    const double lo = std::min(0.0, double(r.lo)), hi = std::max(0.0, double(r.hi));
    QuantParams q;
    if (!(hi - lo > 1e-12)) return q;  // a tensor that is always zero: any scale will do
    q.scale = float((hi - lo) / 255.0);
    q.zero_point = int(std::clamp(std::nearbyint(-lo / q.scale), 0.0, 255.0));
    return q;
}

nlohmann::json calibration_json(const Calibration &c) {
    using nlohmann::json;
    json tensors = json::array();
    for (const TensorRanges &t : c.tensors) {
        json ranges = json::object();
        for (const auto &[m, r] : t.ranges) ranges[range_method_name(m)] = {r.lo, r.hi};
        tensors.push_back({{"name", t.name},
                           {"min", t.extremes.lo},
                           {"max", t.extremes.hi},
                           {"ranges", ranges}});
    }
    return {{"m1c_calibration", 1},
            {"model", {{"spec", c.spec_name}, {"checkpoint_sha256", c.checkpoint_sha256}}},
            {"samples", c.samples},
            {"data", c.data},
            {"input_size", {c.height, c.width}},
            {"output_stride", c.output_stride},
            {"method", range_method_name(c.method)},
            {"tensors", tensors}};
}

namespace {

const nlohmann::json &member(const nlohmann::json &j, const std::string &key, const std::string &where) {
    if (!j.is_object() || !j.contains(key)) throw Error(where + ": missing key \"" + key + "\"");
    return j.at(key);
}

Range range_from(const nlohmann::json &j, const std::string &where) {
    if (!j.is_array() || j.size() != 2 || !j[0].is_number() || !j[1].is_number())
        throw Error(where + ": expected [lo, hi], two numbers");
    Range r{j[0].get<float>(), j[1].get<float>()};
    if (!std::isfinite(r.lo) || !std::isfinite(r.hi) || r.lo > r.hi)
        throw Error(where + ": expected finite lo <= hi, found [" + std::to_string(r.lo) + ", " +
                    std::to_string(r.hi) + "]");
    return r;
}

}  // namespace

Calibration calibration_from_json(const nlohmann::json &j, const std::string &path) {
    const std::string where = path;
    const nlohmann::json &version = member(j, "m1c_calibration", where);
    if (!version.is_number_integer() || version.get<int>() != 1)
        throw Error(where + ": not an m1c calibration file of version 1 (key \"m1c_calibration\")");
    Calibration c;
    const nlohmann::json &model = member(j, "model", where);
    if (model.contains("spec") && model["spec"].is_string()) c.spec_name = model["spec"];
    if (model.contains("checkpoint_sha256") && model["checkpoint_sha256"].is_string())
        c.checkpoint_sha256 = model["checkpoint_sha256"];
    const nlohmann::json &samples = member(j, "samples", where);
    if (!samples.is_number_integer() || samples.get<int64_t>() < 1)
        throw Error(where + ": key \"samples\": expected a positive integer");
    c.samples = samples.get<int>();
    if (j.contains("data") && j["data"].is_string()) c.data = j["data"];
    const nlohmann::json &size = member(j, "input_size", where);
    if (!size.is_array() || size.size() != 2 || !size[0].is_number_integer() || !size[1].is_number_integer())
        throw Error(where + ": key \"input_size\": expected [H, W]");
    c.height = size[0];
    c.width = size[1];
    if (j.contains("output_stride")) {  // absent in files written before backbone builds: 32
        const nlohmann::json &os = j["output_stride"];
        if (!os.is_number_integer() || (os != 32 && os != 16 && os != 8))
            throw Error(where + ": key \"output_stride\": expected 32, 16 or 8");
        c.output_stride = os;
    }
    const nlohmann::json &method = member(j, "method", where);
    if (!method.is_string()) throw Error(where + ": key \"method\": expected a string");
    try {
        c.method = parse_range_method(method.get<std::string>());
    } catch (const Error &e) {
        throw Error(where + ": " + e.what());
    }
    const nlohmann::json &tensors = member(j, "tensors", where);
    if (!tensors.is_array() || tensors.empty()) throw Error(where + ": key \"tensors\": expected a non-empty list");
    for (size_t i = 0; i < tensors.size(); ++i) {
        const std::string tw = where + ": tensors[" + std::to_string(i) + "]";
        const nlohmann::json &t = tensors[i];
        TensorRanges tr;
        const nlohmann::json &name = member(t, "name", tw);
        if (!name.is_string()) throw Error(tw + ": key \"name\": expected a string");
        tr.name = name;
        const std::string nw = tw + " (" + tr.name + ")";
        tr.extremes = range_from(nlohmann::json{member(t, "min", nw), member(t, "max", nw)}, nw + ": min/max");
        const nlohmann::json &ranges = member(t, "ranges", nw);
        for (RangeMethod m : all_range_methods())
            tr.ranges[m] = range_from(member(ranges, range_method_name(m), nw + ": ranges"),
                                      nw + ": ranges." + range_method_name(m));
        if (c.find(tr.name)) throw Error(nw + ": tensor named twice");
        c.tensors.push_back(std::move(tr));
    }
    return c;
}

void save_calibration(const Calibration &c, const std::string &path) {
    namespace fs = std::filesystem;
    const std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::trunc);
        out << calibration_json(c).dump(2) << "\n";
        out.close();
        if (!out) throw Error(path + ": cannot write the calibration file");
    }
    std::error_code ec;
    fs::rename(tmp, path, ec);
    if (ec) throw Error(path + ": cannot write the calibration file (" + ec.message() + ")");
}

Calibration load_calibration(const std::string &path) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (!fs::exists(path, ec)) throw Error(path + ": no such file");
    if (fs::is_directory(path, ec)) throw Error(path + ": is a directory, not a calibration file");
    std::ifstream in(path);
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception &e) {
        throw Error(path + ": not valid JSON (" + std::string(e.what()) + ")");
    }
    return calibration_from_json(j, path);
}

}  // namespace m1c::quant
