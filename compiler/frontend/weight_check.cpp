#include "frontend/weight_check.h"

#include <cmath>
#include <set>

#include "core/error.h"

namespace m1c {

const char *weight_format_name(WeightFormat f) {
    return f == WeightFormat::Fused ? "reparameterised (fused)" : "train-time (unfused)";
}

WeightFormat detect_weight_format(const TensorMap &weights) {
    for (const auto &kv : weights)
        if (kv.first.find(".reparam_conv.") != std::string::npos) return WeightFormat::Fused;
    return WeightFormat::TrainTime;
}

namespace {

using I = int64_t;

void add_batchnorm(std::vector<ExpectedTensor> &out, const std::string &p, I channels) {
    for (const char *name : {"weight", "bias", "running_mean", "running_var"})
        out.push_back({p + "." + name, {channels}, false});
    out.push_back({p + ".num_batches_tracked", {}, true});
}

void add_block(std::vector<ExpectedTensor> &out, const BlockLayout &b, WeightFormat format) {
    const I cout = b.out_channels, cin_g = b.in_channels / b.groups, k = b.kernel;
    if (format == WeightFormat::Fused) {
        out.push_back({b.prefix + ".reparam_conv.weight", {cout, cin_g, k, k}, false});
        out.push_back({b.prefix + ".reparam_conv.bias", {cout}, false});
    } else {
        for (int i = 0; i < b.conv_branches; ++i) {
            std::string p = b.prefix + ".rbr_conv." + std::to_string(i);
            out.push_back({p + ".conv.weight", {cout, cin_g, k, k}, false});
            add_batchnorm(out, p + ".bn", cout);
        }
        if (b.has_scale) {
            out.push_back({b.prefix + ".rbr_scale.conv.weight", {cout, cin_g, 1, 1}, false});
            add_batchnorm(out, b.prefix + ".rbr_scale.bn", cout);
        }
        if (b.has_identity) add_batchnorm(out, b.prefix + ".rbr_skip", b.in_channels);
    }
    if (b.has_se) {
        const I r = b.se_channels;
        out.push_back({b.prefix + ".se.reduce.weight", {r, cout, 1, 1}, false});
        out.push_back({b.prefix + ".se.reduce.bias", {r}, false});
        out.push_back({b.prefix + ".se.expand.weight", {cout, r, 1, 1}, false});
        out.push_back({b.prefix + ".se.expand.bias", {cout}, false});
    }
}

}  // namespace

std::vector<ExpectedTensor> expected_tensors(const Spec &spec, WeightFormat format, bool head) {
    NetworkLayout net = network_layout(spec);
    std::vector<ExpectedTensor> out;
    for (const BlockLayout &b : net.blocks) add_block(out, b, format);
    if (!head) return out;
    out.push_back({"linear.weight", {net.num_classes, net.features}, false});
    out.push_back({"linear.bias", {net.num_classes}, false});
    return out;
}

bool has_head_keys(const TensorMap &weights) {
    for (const auto &kv : weights)
        if (kv.first.compare(0, 7, "linear.") == 0) return true;
    return false;
}

std::vector<std::string> weight_problems(const Spec &spec, WeightFormat format,
                                         const TensorMap &weights, Naming naming) {
    std::vector<std::string> problems;
    std::set<std::string> expected_keys;
    for (const ExpectedTensor &e : expected_tensors(spec, format, has_head_keys(weights))) {
        expected_keys.insert(e.key);
        const std::string shown = key_in_naming(naming, e.key);
        auto it = weights.find(e.key);
        if (it == weights.end()) {
            if (!e.optional)
                problems.push_back("missing key " + shown + " (expected shape " +
                                   shape_str(e.shape) + ")");
            continue;
        }
        const Tensor &t = it->second;
        // num_batches_tracked is a bookkeeping counter: any scalar is fine.
        if (e.optional) continue;
        if (t.shape != e.shape) {
            problems.push_back("key " + shown + ": expected shape " + shape_str(e.shape) +
                               ", found " + shape_str(t.shape));
            continue;
        }
        for (int64_t i = 0; i < t.numel(); ++i)
            if (!std::isfinite(t.data[i])) {
                problems.push_back("key " + shown + ": non-finite value " +
                                   std::to_string(t.data[i]) + " at flat index " +
                                   std::to_string(i));
                break;
            }
    }
    for (const auto &kv : weights)
        if (!expected_keys.count(kv.first))
            problems.push_back("unexpected key " + key_in_naming(naming, kv.first) + " (shape " +
                               shape_str(kv.second.shape) + ")");
    return problems;
}

void check_weights(const Spec &spec, WeightFormat format, const TensorMap &weights,
                   const std::string &source, Naming naming) {
    std::vector<std::string> problems = weight_problems(spec, format, weights, naming);
    if (problems.empty()) return;
    std::string msg = source + ": weights do not fit spec \"" + spec.name + "\" (" +
                      naming_name(naming) + " naming, " + weight_format_name(format) +
                      " checkpoint), " +
                      std::to_string(problems.size()) + " problem(s):";
    const size_t shown = std::min<size_t>(problems.size(), 20);
    for (size_t i = 0; i < shown; ++i) msg += "\n  " + problems[i];
    if (problems.size() > shown)
        msg += "\n  ... and " + std::to_string(problems.size() - shown) + " more";
    throw Error(msg);
}

}  // namespace m1c
