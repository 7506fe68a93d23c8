// Reading and writing tuning records. A records file may come from another machine or be
// edited by hand: every field is checked, errors name the file and the record.
#include "records.h"

#include <cmath>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include "codegen/targets.h"
#include "core/error.h"
#include "schedule.h"

namespace m1c::schedules {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

TuningRecord parse_record(const json &r, const std::string &where) {
    auto fail = [&](const std::string &what) { throw Error(where + ": " + what); };
    if (!r.is_object()) fail("expected an object");
    for (const char *key : {"device", "target", "op", "config", "median_ms", "runs"})
        if (!r.contains(key)) fail(std::string("missing key \"") + key + "\"");
    TuningRecord t;
    t.device = r.at("device");
    if (!t.device.is_object() || !t.device.contains("cpu") || !t.device.at("cpu").is_string())
        fail("\"device\" must be an object with a string \"cpu\"");
    if (t.device.contains("features")) {
        const json &f = t.device.at("features");
        if (!f.is_array()) fail("\"device\".\"features\" must be an array of strings");
        for (const json &s : f)
            if (!s.is_string()) fail("\"device\".\"features\" must be an array of strings");
    }
    if (!r.at("target").is_string()) fail("\"target\" must be a string");
    t.target = r.at("target").get<std::string>();
    if (!Halide::Target::validate_target_string(t.target))
        fail("\"target\" \"" + t.target + "\" is not a Halide target string");
    if (r.contains("threads")) {
        const json &n = r.at("threads");
        if (!n.is_number_integer() || n.get<int64_t>() < 0 || n.get<int64_t>() > 1024)
            fail("\"threads\" must be an integer from 0 (all cores) to 1024");
        t.threads = int(n.get<int64_t>());
    }
    t.op = r.at("op");
    if (!t.op.is_object() || t.op.empty()) fail("\"op\" must be a non-empty object");
    t.config = r.at("config");
    if (!t.config.is_object()) fail("\"config\" must be an object");
    const json &ms = r.at("median_ms");
    if (!ms.is_number() || !std::isfinite(ms.get<double>()) || ms.get<double>() <= 0)
        fail("\"median_ms\" must be a positive number");
    t.median_ms = ms.get<double>();
    const json &runs = r.at("runs");
    if (!runs.is_number_integer() || runs.get<int64_t>() < 1 || runs.get<int64_t>() > 1000000000)
        fail("\"runs\" must be a positive integer");
    t.runs = int(runs.get<int64_t>());
    if (r.contains("when")) {
        if (!r.at("when").is_string()) fail("\"when\" must be a string");
        t.when = r.at("when").get<std::string>();
    }
    if (r.contains("confirmed")) {
        if (!r.at("confirmed").is_boolean()) fail("\"confirmed\" must be true or false");
        t.confirmed = r.at("confirmed").get<bool>();
    }
    return t;
}

}  // namespace

std::vector<TuningRecord> read_records(const std::string &path) {
    std::error_code ec;
    if (!fs::exists(path, ec)) throw Error(path + ": no such file");
    if (fs::is_directory(path, ec)) throw Error(path + ": is a directory, not a records file");
    const auto size = fs::file_size(path, ec);
    if (!ec && size > (uint64_t(1) << 30)) throw Error(path + ": larger than 1 GiB; not a records file");
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(path + ": cannot open");
    std::stringstream ss;
    ss << in.rdbuf();
    json j = json::parse(ss.str(), nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) throw Error(path + ": not valid JSON (expected m1c tuning records)");
    if (!j.is_object() || !j.contains("m1c_tuning_records"))
        throw Error(path + ": not an m1c tuning records file (no \"m1c_tuning_records\" key)");
    const json &v = j.at("m1c_tuning_records");
    if (!v.is_number_integer() || v.get<int64_t>() < kOldestRecordsVersion ||
        v.get<int64_t>() > kRecordsVersion)
        throw Error(path + ": records version " + v.dump() + " is not supported (expected " +
                    std::to_string(kOldestRecordsVersion) + " to " + std::to_string(kRecordsVersion) + ")");
    if (!j.contains("records") || !j.at("records").is_array())
        throw Error(path + ": \"records\" must be an array");
    std::vector<TuningRecord> out;
    const json &rs = j.at("records");
    for (size_t i = 0; i < rs.size(); ++i)
        out.push_back(parse_record(rs[i], path + ": record " + std::to_string(i)));
    return out;
}

void write_records(const std::string &path, const std::vector<TuningRecord> &records) {
    json rs = json::array();
    for (const TuningRecord &r : records) {
        json o{{"device", r.device}, {"target", r.target}, {"threads", r.threads}, {"op", r.op}, {"config", r.config},
               {"median_ms", r.median_ms}, {"runs", r.runs}};
        if (!r.when.empty()) o["when"] = r.when;
        if (r.confirmed) o["confirmed"] = true;
        rs.push_back(std::move(o));
    }
    const json j{{"m1c_tuning_records", kRecordsVersion}, {"records", rs}};
    const std::string tmp = path + ".tmp" + std::to_string(::getpid());
    {
        std::ofstream out(tmp, std::ios::trunc);
        out << j.dump(1) << "\n";
        out.close();
        if (!out) throw Error(path + ": write failed");
    }
    std::error_code ec;
    fs::rename(tmp, path, ec);
    if (ec) {
        fs::remove(tmp, ec);
        throw Error(path + ": cannot write (" + ec.message() + ")");
    }
}

std::string cpu_model_from_cpuinfo(const std::string &cpuinfo) {
    std::istringstream in(cpuinfo);
    std::string line, implementer, part;
    auto value = [](const std::string &l) {
        std::string v = l.substr(l.find(':') + 1);
        const size_t b = v.find_first_not_of(" \t");
        return b == std::string::npos ? std::string() : v.substr(b);
    };
    while (std::getline(in, line)) {
        if (line.rfind("model name", 0) == 0) return value(line);
        if (line.rfind("CPU implementer", 0) == 0 && implementer.empty()) implementer = value(line);
        if (line.rfind("CPU part", 0) == 0 && part.empty()) part = value(line);
    }
    if (!implementer.empty()) return "arm implementer " + implementer + " part " + part;
    return "unknown";
}

json host_device() {
    std::ifstream in("/proc/cpuinfo");
    std::stringstream ss;
    ss << in.rdbuf();
    json features = json::array();
    const std::string t = codegen::host_target().to_string();
    std::istringstream parts(t);
    std::string part;
    int i = 0;
    while (std::getline(parts, part, '-'))
        if (i++ >= 3) features.push_back(part);  // after arch-bits-os
    return json{{"cpu", cpu_model_from_cpuinfo(ss.str())}, {"features", features}, {"runner", "local"}};
}

bool same_target_class(const std::string &recorded, const Halide::Target &target) {
    if (!Halide::Target::validate_target_string(recorded)) return false;
    const Halide::Target r(recorded);
    return r.arch == target.arch && r.bits == target.bits && r.os == target.os &&
           cpu_params_for(r).name == cpu_params_for(target).name;
}

std::string utc_now() {
    std::time_t t = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

}  // namespace m1c::schedules
