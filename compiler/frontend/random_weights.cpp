#include "frontend/random_weights.h"

#include <algorithm>
#include <cmath>
#include <random>

#include "frontend/weight_check.h"

namespace m1c {

TensorMap random_fused_weights(const Spec &spec, uint32_t seed) {
    std::mt19937 rng(seed);
    TensorMap map;
    for (const ExpectedTensor &e : expected_tensors(spec, WeightFormat::Fused)) {
        if (e.optional) continue;
        Tensor t = Tensor::zeros(e.shape);
        const int64_t fan_in = e.shape.size() >= 2 ? t.numel() / std::max<int64_t>(e.shape[0], 1) : 0;
        std::normal_distribution<float> d(0.0f, fan_in ? std::sqrt(2.0f / float(fan_in)) : 0.1f);
        for (float &v : t.data) v = d(rng);
        map.emplace(e.key, std::move(t));
    }
    return map;
}

}  // namespace m1c
