// The search space: legal knob ranges per unit, keys, JSON, random and mutated configs.
// See search_space.h for the ranges and why they are what they are.
#include "search_space.h"

#include <algorithm>

#include "core/error.h"

namespace m1c::schedules {

using codegen::ConvKind;
using codegen::LoweredConv;
using codegen::LoweredPipeline;
using nlohmann::json;

namespace {

constexpr int kMaxCv = 8, kMaxTx = 16;

bool is_pointwise(const LoweredConv &L) { return L.kind == ConvKind::Dense && L.kernel == 1; }

std::vector<int> legal_cv(const LoweredConv &L, const CpuParams &cp) {
    const int vec = channel_lanes(L.cout, cp);
    std::vector<int> out;
    for (int cv = 1; cv <= kMaxCv; ++cv) {
        const int tc = cv * vec;
        if (cv > 1 && tc > L.cout) break;
        if (tc % codegen::kWeightBlock != 0 && codegen::kWeightBlock % tc != 0) continue;
        out.push_back(cv);
    }
    if (out.empty()) out.push_back(1);
    return out;
}

int max_tx(const LoweredConv &L, int cv, const CpuParams &cp) {
    int m = 0;
    for (int tx = 1; tx <= std::min(L.out_w, kMaxTx); ++tx)
        if (cv * tx + cv + cp.broadcast_registers <= cp.vector_registers) m = tx;
    return std::max(m, 1);
}

std::vector<int> legal_ux(const LoweredConv &L) {
    std::vector<int> out{1};
    for (int u : {2, 4, 8})
        if (u <= L.out_w) out.push_back(u);
    return out;
}

std::vector<int> legal_lanes(const LoweredConv &L, const CpuParams &cp) {
    std::vector<int> out;
    for (int l = 1; l <= 2 * cp.vector_floats && l <= std::max(L.cout, 1); l *= 2) out.push_back(l);
    return out;
}

bool contains(const std::vector<int> &v, int x) { return std::find(v.begin(), v.end(), x) != v.end(); }

int nearest(const std::vector<int> &v, int x) {
    int best = v.front();
    for (int c : v)
        if (std::abs(c - x) < std::abs(best - x)) best = c;
    return best;
}

template <class T> const T &pick(const std::vector<T> &v, std::mt19937 &rng) {
    return v[std::uniform_int_distribution<size_t>(0, v.size() - 1)(rng)];
}

// Makes `c` legal by moving every illegal knob to its nearest legal value.
UnitConfig repair(const LoweredPipeline &p, const TuneUnit &u, UnitConfig c, const CpuParams &cp) {
    if (u.dense >= 0) {
        const LoweredConv &L = p.convs[u.dense];
        c.dense.vec = channel_lanes(L.cout, cp);
        c.dense.cv = nearest(legal_cv(L, cp), c.dense.cv);
        c.dense.tx = std::clamp(c.dense.tx, 1, max_tx(L, c.dense.cv, cp));
        if (!c.dense.rows) c.dense.co_inner = false;
    }
    if (u.dw >= 0) {
        const LoweredConv &D = p.convs[u.dw];
        if (u.dense < 0 || !c.dense.rows) c.dw.inside = false;
        c.dw.ux = nearest(legal_ux(D), c.dw.ux);
        c.dw.lanes = nearest(legal_lanes(D, cp), c.dw.lanes);
    }
    return c;
}

json conv_key(const LoweredConv &L) {
    json key{{"kind", L.kind == ConvKind::Dense ? "dense" : "depthwise"},
             {"cin", L.cin},       {"cout", L.cout},     {"kernel", L.kernel},
             {"stride", L.stride}, {"batch", L.batch},   {"in_h", L.in_h},
             {"in_w", L.in_w},     {"out_h", L.out_h},   {"out_w", L.out_w},
             {"se", L.has_se},     {"relu", L.relu},     {"image", L.from_image}};
    // Dilated ops (--output-stride) only: records of undilated ops keep their keys.
    if (L.dilation > 1) key["dilation"] = L.dilation;
    return key;
}

std::string conv_short(const LoweredConv &L) {
    std::string s = L.kind == ConvKind::Depthwise ? "dw" : (L.kernel == 1 ? "pw" : "conv");
    if (L.kernel != 1) s += std::to_string(L.kernel) + "x" + std::to_string(L.kernel);
    if (L.stride > 1) s += "/" + std::to_string(L.stride);
    if (L.dilation > 1) s += "@d" + std::to_string(L.dilation);
    if (L.has_se) s += "+se";
    return s;
}

template <class T> T get(const json &j, const char *key) {
    if (!j.is_object() || !j.contains(key)) throw Error(std::string("config: missing key \"") + key + "\"");
    const json &v = j.at(key);
    if constexpr (std::is_same_v<T, bool>) {
        if (!v.is_boolean()) throw Error(std::string("config: \"") + key + "\" must be true or false");
    } else if constexpr (std::is_same_v<T, int>) {
        if (!v.is_number_integer()) throw Error(std::string("config: \"") + key + "\" must be an integer");
        if (v.get<int64_t>() < -1000000 || v.get<int64_t>() > 1000000)
            throw Error(std::string("config: \"") + key + "\" is out of range");
    } else {
        if (!v.is_string()) throw Error(std::string("config: \"") + key + "\" must be a string");
    }
    return v.get<T>();
}

}  // namespace

std::vector<TuneUnit> tune_units(const LoweredPipeline &p) {
    std::vector<TuneUnit> units;
    for (size_t i = 0; i < p.convs.size(); ++i) {
        const LoweredConv &L = p.convs[i];
        if (L.kind == ConvKind::Dense) {
            TuneUnit u;
            u.dense = int(i);
            if (i > 0 && p.convs[i - 1].kind == ConvKind::Depthwise && !p.convs[i - 1].has_se &&
                is_pointwise(L))
                u.dw = int(i - 1);
            units.push_back(u);
        } else if (L.has_se || i + 1 >= p.convs.size() || !is_pointwise(p.convs[i + 1])) {
            TuneUnit u;
            u.dw = int(i);
            units.push_back(u);
        }
    }
    return units;
}

json unit_key(const LoweredPipeline &p, const TuneUnit &u) {
    json k = json::object();
    if (u.dense >= 0) k["dense"] = conv_key(p.convs[u.dense]);
    if (u.dw >= 0) k["dw"] = conv_key(p.convs[u.dw]);
    return k;
}

std::string describe_unit(const LoweredPipeline &p, const TuneUnit &u) {
    std::string s;
    if (u.dw >= 0) s = conv_short(p.convs[u.dw]);
    if (u.dense >= 0) s += (s.empty() ? "" : "+") + conv_short(p.convs[u.dense]);
    const LoweredConv &L = p.convs[u.last()];
    const LoweredConv &F = p.convs[u.first()];
    s += " " + std::to_string(F.cin) + "->" + std::to_string(L.cout) + " " +
         std::to_string(L.out_h) + "x" + std::to_string(L.out_w);
    return s;
}

std::string unit_name(const LoweredPipeline &p, const TuneUnit &u) { return p.convs[u.last()].name; }

UnitConfig default_config(const std::vector<OpKnobs> &defaults, const TuneUnit &u) {
    UnitConfig c;
    if (u.dense >= 0) c.dense = defaults[u.dense].dense;
    if (u.dw >= 0) c.dw = defaults[u.dw].dw;
    return c;
}

void set_config(std::vector<OpKnobs> &knobs, const TuneUnit &u, const UnitConfig &c) {
    if (u.dense >= 0) knobs[u.dense].dense = c.dense;
    if (u.dw >= 0) knobs[u.dw].dw = c.dw;
}

std::string check_config(const LoweredPipeline &p, const TuneUnit &u, const UnitConfig &c,
                         const CpuParams &cp) {
    auto bad = [](const std::string &knob, int v, const std::string &why) {
        return knob + " " + std::to_string(v) + ": " + why;
    };
    if (u.dense >= 0) {
        const LoweredConv &L = p.convs[u.dense];
        const DenseKnobs &k = c.dense;
        if (k.vec != channel_lanes(L.cout, cp))
            return bad("vec", k.vec, "expected " + std::to_string(channel_lanes(L.cout, cp)) +
                                         " (the target's lanes for " + std::to_string(L.cout) +
                                         " channels)");
        if (!contains(legal_cv(L, cp), k.cv))
            return bad("cv", k.cv, "the tile of cv*" + std::to_string(k.vec) +
                                       " channels must fit " + std::to_string(L.cout) +
                                       " channels and be a multiple or divisor of 16");
        if (k.tx < 1 || k.tx > max_tx(L, k.cv, cp))
            return bad("tx", k.tx, "expected 1.." + std::to_string(max_tx(L, k.cv, cp)) +
                                       " pixels for a row of " + std::to_string(L.out_w) +
                                       " and " + std::to_string(cp.vector_registers) + " registers");
        if (k.co_inner && !k.rows) return "order co_inner: only with parallel rows";
    }
    if (u.dw >= 0) {
        const LoweredConv &D = p.convs[u.dw];
        const DepthwiseKnobs &k = c.dw;
        if (k.inside && (u.dense < 0 || !c.dense.rows))
            return "dw inside: only in a unit whose pointwise op is parallel over rows";
        if (!contains(legal_ux(D), k.ux))
            return bad("dw ux", k.ux, "expected 1, 2, 4 or 8, at most the row of " +
                                          std::to_string(D.out_w) + " pixels");
        if (!contains(legal_lanes(D, cp), k.lanes))
            return bad("dw lanes", k.lanes,
                       "expected a power of two up to " + std::to_string(legal_lanes(D, cp).back()));
    }
    return "";
}

json config_to_json(const TuneUnit &u, const UnitConfig &c) {
    json j = json::object();
    if (u.dense >= 0)
        j["dense"] = json{{"vec", c.dense.vec},
                          {"cv", c.dense.cv},
                          {"tx", c.dense.tx},
                          {"parallel", c.dense.rows ? "rows" : "tiles"},
                          {"order", c.dense.co_inner ? "co_inner" : "co_outer"}};
    if (u.dw >= 0) j["dw"] = json{{"inside", c.dw.inside}, {"ux", c.dw.ux}, {"lanes", c.dw.lanes}};
    return j;
}

UnitConfig config_from_json(const TuneUnit &u, const json &j) {
    if (!j.is_object()) throw Error("config: expected an object");
    UnitConfig c;
    if (u.dense >= 0) {
        if (!j.contains("dense")) throw Error("config: missing key \"dense\"");
        const json &d = j.at("dense");
        c.dense.vec = get<int>(d, "vec");
        c.dense.cv = get<int>(d, "cv");
        c.dense.tx = get<int>(d, "tx");
        const std::string par = get<std::string>(d, "parallel"), order = get<std::string>(d, "order");
        if (par != "rows" && par != "tiles")
            throw Error("config: \"parallel\" is \"" + par + "\"; expected rows or tiles");
        if (order != "co_outer" && order != "co_inner")
            throw Error("config: \"order\" is \"" + order + "\"; expected co_outer or co_inner");
        c.dense.rows = par == "rows";
        c.dense.co_inner = order == "co_inner";
    }
    if (u.dw >= 0) {
        if (!j.contains("dw")) throw Error("config: missing key \"dw\"");
        const json &d = j.at("dw");
        c.dw.inside = get<bool>(d, "inside");
        c.dw.ux = get<int>(d, "ux");
        c.dw.lanes = get<int>(d, "lanes");
    }
    return c;
}

UnitConfig random_config(const LoweredPipeline &p, const TuneUnit &u, const CpuParams &cp,
                         std::mt19937 &rng) {
    UnitConfig c;
    std::bernoulli_distribution coin(0.5);
    if (u.dense >= 0) {
        const LoweredConv &L = p.convs[u.dense];
        c.dense.cv = pick(legal_cv(L, cp), rng);
        c.dense.tx = std::uniform_int_distribution<int>(1, max_tx(L, c.dense.cv, cp))(rng);
        c.dense.rows = coin(rng);
        c.dense.co_inner = coin(rng);
    }
    if (u.dw >= 0) {
        const LoweredConv &D = p.convs[u.dw];
        c.dw.inside = coin(rng);
        c.dw.ux = pick(legal_ux(D), rng);
        c.dw.lanes = pick(legal_lanes(D, cp), rng);
    }
    return repair(p, u, c, cp);
}

UnitConfig mutate_config(const LoweredPipeline &p, const TuneUnit &u, const UnitConfig &c,
                         const CpuParams &cp, std::mt19937 &rng) {
    // One knob moved to a neighbouring value (or flipped); sometimes a second one.
    UnitConfig m = c;
    std::vector<int> knobs;
    if (u.dense >= 0) knobs.insert(knobs.end(), {0, 1, 2, 3});
    if (u.dw >= 0) knobs.insert(knobs.end(), {4, 5, 6});
    const int changes = std::bernoulli_distribution(0.3)(rng) ? 2 : 1;
    auto step = [&](const std::vector<int> &legal, int v) {
        auto it = std::find(legal.begin(), legal.end(), v);
        const int i = it == legal.end() ? 0 : int(it - legal.begin());
        const int j = std::clamp(i + (std::bernoulli_distribution(0.5)(rng) ? 1 : -1), 0,
                                 int(legal.size()) - 1);
        return legal[j == i ? (j + 1) % legal.size() : j];
    };
    for (int n = 0; n < changes; ++n) {
        switch (pick(knobs, rng)) {
            case 0: m.dense.cv = step(legal_cv(p.convs[u.dense], cp), m.dense.cv); break;
            case 1: {
                std::vector<int> tx;
                for (int t = 1; t <= max_tx(p.convs[u.dense], m.dense.cv, cp); ++t) tx.push_back(t);
                m.dense.tx = step(tx, std::min(m.dense.tx, tx.back()));
                break;
            }
            case 2: m.dense.rows = !m.dense.rows; break;
            case 3: m.dense.co_inner = !m.dense.co_inner; break;
            case 4: m.dw.inside = !m.dw.inside; break;
            case 5: m.dw.ux = step(legal_ux(p.convs[u.dw]), m.dw.ux); break;
            case 6: m.dw.lanes = step(legal_lanes(p.convs[u.dw], cp), m.dw.lanes); break;
        }
    }
    return repair(p, u, m, cp);
}

UnitConfig crossover_config(const LoweredPipeline &p, const TuneUnit &u, const UnitConfig &a,
                            const UnitConfig &b, const CpuParams &cp, std::mt19937 &rng) {
    std::bernoulli_distribution coin(0.5);
    UnitConfig c = a;
    if (coin(rng)) { c.dense.cv = b.dense.cv; c.dense.tx = b.dense.tx; }  // the tile as a whole
    if (coin(rng)) c.dense.rows = b.dense.rows;
    if (coin(rng)) c.dense.co_inner = b.dense.co_inner;
    if (coin(rng)) c.dw.inside = b.dw.inside;
    if (coin(rng)) c.dw.ux = b.dw.ux;
    if (coin(rng)) c.dw.lanes = b.dw.lanes;
    return repair(p, u, c, cp);
}

}  // namespace m1c::schedules
