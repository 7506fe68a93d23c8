// A pipeline whose every fused op's output is also a pipeline output, as real (float32)
// values: what int8 calibration observes (the float32 graph) and what `m1c eval` compares
// layer by layer (float32 vs int8). JIT-compiled for the host with the default schedule,
// every op's output at root.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "ir/build_graph.h"
#include "ir/graph.h"

namespace m1c {

struct ProbeResult {
    // Per fused conv op, in graph order: its output, real values, channels innermost:
    // element (c, x, y, n) at ((n * H + y) * W + x) * C + c.
    std::vector<std::vector<float>> ops;
    std::vector<float> pooled;  // the head's pooled features (n, c): n * F + c; empty: a backbone
    std::vector<float> logits;  // (n, k); empty: a backbone
};

class ProbePipeline {
public:
    // `fused` in codegen form, float32 or int8 (annotated).
    ProbePipeline(const Graph &fused, const InputShape &shape);
    ~ProbePipeline();
    ProbePipeline(const ProbePipeline &) = delete;
    ProbePipeline &operator=(const ProbePipeline &) = delete;

    // Names of the probed tensors, in ProbeResult order: the conv ops, then "<head>.pooled"
    // (a classifier; a backbone graph, passes.h select_features, has no head).
    const std::vector<std::string> &names() const;
    const InputShape &shape() const;
    void set_num_threads(int n);
    // input: batch x 3 x H x W floats (NCHW).
    ProbeResult run(const float *input_nchw);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace m1c
