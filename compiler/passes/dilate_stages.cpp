// --output-stride 16|8: the last stages keep their resolution, their convolutions dilated
// instead of strided (DeepLab; segmentation_models_pytorch's replace_strides_with_dilation,
// applied to MobileOne's stages). A dilated kxk conv with padding (k / 2) * d is the same
// folded kernel, its taps d pixels apart, so this runs on the fused graph.
#include <string>

#include "core/error.h"
#include "passes/passes.h"

namespace m1c {
namespace {

int conv_out(int size, const Conv2dAttrs &c) {
    return (size + 2 * c.pad - c.dilation * (c.kernel - 1) - 1) / c.stride + 1;
}

}  // namespace

void dilate_stages(Graph &graph, int output_stride) {
    int dilation[5] = {1, 1, 1, 1, 1};
    if (output_stride == 16) {
        dilation[4] = 2;
    } else if (output_stride == 8) {
        dilation[3] = 2;
        dilation[4] = 4;
    } else if (output_stride != 32) {
        throw Error("--output-stride " + std::to_string(output_stride) + ": expected 32, 16 or 8");
    }
    for (Op &op : graph.ops) {
        const int d = dilation[stage_of_op(op.name)];
        if (op.is<Conv2dAttrs>() && d > 1) {
            Conv2dAttrs &c = op.as<Conv2dAttrs>();
            c.stride = 1;
            c.dilation = c.kernel > 1 ? d : 1;
            c.pad = (c.kernel / 2) * d;
        }
        // Shapes follow from the (possibly changed) convs before them; batchnorm, add, relu
        // and squeeze-excite keep their input's shape.
        const Value &in = graph.values.at(op.inputs.at(0));
        Value &out = graph.values.at(op.output);
        if (op.is<Conv2dAttrs>()) {
            out.h = conv_out(in.h, op.as<Conv2dAttrs>());
            out.w = conv_out(in.w, op.as<Conv2dAttrs>());
        } else if (!op.is<GlobalAvgPoolAttrs>() && !op.is<LinearAttrs>()) {
            out.h = in.h;
            out.w = in.w;
        }
    }
}

}  // namespace m1c
