// Merging and summarising tuning records. See records_tools.h.
#include "records_tools.h"

#include <cstdio>
#include <map>
#include <set>
#include <sstream>

namespace m1c::schedules {

using nlohmann::json;

namespace {

json record_json(const TuningRecord &r) {
    return json{{"device", r.device}, {"target", r.target},   {"threads", r.threads},
                {"op", r.op},         {"config", r.config},
                {"median_ms", r.median_ms}, {"runs", r.runs}, {"when", r.when}, {"confirmed", r.confirmed}};
}

int int_field(const json &conv, const char *key) {
    return conv.is_object() && conv.contains(key) && conv.at(key).is_number_integer() ? conv.at(key).get<int>() : -1;
}

std::string num(int v) { return v < 0 ? "?" : std::to_string(v); }

std::string conv_kind(const json &conv) {
    const bool dw = conv.is_object() && conv.value("kind", json()) == "depthwise";
    const int k = int_field(conv, "kernel"), stride = int_field(conv, "stride");
    std::string s = dw ? "dw" : (k == 1 ? "pw" : "conv");
    if (k != 1) s += num(k) + "x" + num(k);
    if (stride > 1) s += "/" + num(stride);
    if (conv.is_object() && conv.value("se", json()) == true) s += "+se";
    return s;
}

std::string device_name(const json &d) {
    std::string s = "\"" + d.value("cpu", std::string("?")) + "\"";
    if (d.contains("runner") && d.at("runner").is_string()) s += " (" + d.at("runner").get<std::string>() + ")";
    return s;
}

std::string fmt_ms(double ms) {
    char b[32];
    std::snprintf(b, sizeof b, "%.4g", ms);
    return b;
}

}  // namespace

MergedRecords merge_records(const std::vector<std::string> &paths) {
    MergedRecords m;
    std::set<std::string> seen;
    for (const std::string &p : paths)
        for (TuningRecord &r : read_records(p)) {
            if (!seen.insert(record_json(r).dump()).second) {
                ++m.duplicates;
                continue;
            }
            m.records.push_back(std::move(r));
        }
    return m;
}

std::string describe_op_key(const json &key) {
    const json dw = key.is_object() && key.contains("dw") ? key.at("dw") : json();
    const json dense = key.is_object() && key.contains("dense") ? key.at("dense") : json();
    const json &first = dw.is_null() ? dense : dw;
    const json &last = dense.is_null() ? dw : dense;
    if (first.is_null()) return "? (" + key.dump().substr(0, 80) + ")";
    std::string s;
    if (!dw.is_null()) s = conv_kind(dw);
    if (!dense.is_null()) s += (s.empty() ? "" : "+") + conv_kind(dense);
    return s + " " + num(int_field(first, "cin")) + "->" + num(int_field(last, "cout")) + " " +
           num(int_field(last, "out_h")) + "x" + num(int_field(last, "out_w"));
}

std::string summarize_records(const std::vector<TuningRecord> &records) {
    struct Op {
        size_t measured = 0;
        const TuningRecord *pick = nullptr;
    };
    struct Group {
        json device;
        std::string target;
        int threads = 1;
        size_t records = 0, baselines = 0, confirmed = 0;
        std::map<std::string, Op> ops;  // by op key text
    };
    std::map<std::string, Group> groups;  // by device + target + threads
    for (const TuningRecord &r : records) {
        Group &g = groups[r.device.dump() + " " + r.target + " " + std::to_string(r.threads)];
        g.device = r.device;
        g.target = r.target;
        g.threads = r.threads;
        ++g.records;
        g.confirmed += r.confirmed;
        if (r.config.contains("baseline")) {
            ++g.baselines;
            continue;
        }
        Op &op = g.ops[r.op.dump()];
        ++op.measured;
        auto rank = [](const TuningRecord *t) { return std::make_pair(!t->confirmed, t->median_ms); };
        if (!op.pick || rank(&r) < rank(op.pick)) op.pick = &r;
    }
    std::ostringstream out;
    out << records.size() << " records, " << groups.size() << " device/target/threads group" << (groups.size() == 1 ? "" : "s")
        << "\n";
    for (const auto &[name, g] : groups) {
        out << "\ndevice " << device_name(g.device) << ", target " << g.target << ", "
            << (g.threads ? std::to_string(g.threads) : std::string("all")) << " thread"
            << (g.threads == 1 ? "" : "s") << ": " << g.records << " records ("
            << g.baselines << " baselines, " << g.confirmed << " confirmed), " << g.ops.size() << " ops\n";
        char line[160];
        std::snprintf(line, sizeof line, "  %-34s %8s %10s  %s\n", "op", "measured", "pick ms", "pick (confirmed first, then fastest)");
        out << line;
        for (const auto &[key, op] : g.ops) {
            std::snprintf(line, sizeof line, "  %-34s %8zu %10s  ", describe_op_key(op.pick->op).c_str(), op.measured,
                          fmt_ms(op.pick->median_ms).c_str());
            out << line << op.pick->config.dump() << (op.pick->confirmed ? " (confirmed)" : "") << "\n";
        }
    }
    return out.str();
}

}  // namespace m1c::schedules
