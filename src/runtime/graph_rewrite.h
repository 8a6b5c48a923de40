// Exact rewrites of an ONNX model's graph before ONNX Runtime loads it, for patterns its own optimiser leaves alone.
//
// Affine folding: PP-LCNetV3 (the backbone of PP-OCRv4) follows convolutions and activations with a learnable
// scale and bias, Mul(x, s) -> Add(., b) with scalar s and b, two more passes each. When they follow a convolution
// they are folded into its weights and biases (W' = s W, B' = s B + b); when they precede a convolution without
// padding, into that one's (W' = s W, B' = B + b * sum of W over its inputs and window). With zero padding the
// border outputs would change, so those are left as they are. Every affine left after these folds is written as a
// depthwise 1x1 convolution (weights s, biases b) when the channel count of its input is known: the same arithmetic
// in one pass, and ONNX Runtime keeps convolutions in its blocked NCHWc layout, where an element-wise node by a
// scalar makes it reorder the tensor out of that layout and back (the recognizer of PP-OCRv4 spent 12% of its time
// in such reorders; BENCHMARKS.md).
//
// Hard-swish: exporters such as paddle2onnx write x * relu6(x + 3) / 6 as four element-wise nodes
//   Add(x, 3) -> Clip(0, 6) -> Mul(x, .) -> Div(., 6)        (or the Div before the Mul)
// and ONNX Runtime runs each of them as a pass over the whole tensor; in PP-OCRv4's recognizer they took about half
// of the inference time (BENCHMARKS.md, "Text"). The same function is x * HardSigmoid(x) with alpha 1/6 and beta 0.5
// (HardSigmoid is in every opset from 6 on), which is two passes. Matched only when every intermediate result has a
// single consumer and the constants are exactly 3, 0, 6 and 6.
//
// int8 (optional, for a model whose manifest entry carries calibrated ranges): after the rewrites above, every
// convolution whose input and output have a range becomes QLinearConv (uint8 activations, int8 weights per output
// channel, a following BatchNormalization folded in), and every x * HardSigmoid(x) on such an output becomes two
// uint8 passes: QLinearAdd(x, 0) requantised to step 6/255 around 128, which saturates exactly where HardSigmoid
// clips, read back as HardSigmoid(x) in steps of 1/255; then QLinearMul of the two. A scalar affine left as a
// depthwise 1x1 convolution after it is folded into that product's output scale and zero point. Nodes without
// ranges stay in float, with DequantizeLinear/QuantizeLinear where the two meet. Opset 9 models are lifted to
// opset 10 (QuantizeLinear's first), their Slice attributes becoming inputs. PP-OCRv4's recognizer runs about twice
// as fast this way (BENCHMARKS.md, "Text").
//
// The protobuf wire format is read and written here (no protobuf or onnx library); fields the rewrite does not touch
// are copied byte for byte.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace dr::runtime {

struct RewriteStats {
  int affine_into_next_conv = 0;  // Mul/Add by scalars folded into the convolution that follows
  int affine_into_conv = 0;       // Mul/Add by scalars folded into the convolution before them
  int hard_swish = 0;             // hard-swish patterns replaced
  int affine_depthwise = 0;       // Mul/Add by scalars left over, made depthwise 1x1 convolutions
  int int8_convs = 0;             // convolutions made QLinearConv
  int int8_hard_swish = 0;        // hard-swishes made QLinearAdd + QLinearMul
};

// Calibrated value ranges, [lowest, highest], by tensor name (names of the rewritten graph).
using Int8Ranges = std::map<std::string, std::pair<float, float>>;

// The rewritten model, or nullopt when nothing matched (or `model` is not a ModelProto this reader understands:
// the caller then loads the file as it is). Never throws for malformed input.
// With `int8`, the int8 pass runs too (an empty result when the graph has nothing it can quantise is nullopt as well).
std::optional<std::string> rewrite_graph(std::string_view model, RewriteStats* stats = nullptr,
                                         const Int8Ranges* int8 = nullptr);

// The model with the outputs of the Conv, BatchNormalization, Add, Mul and HardSigmoid nodes of its convolutional
// trunk (the nodes before the first of another kind than those, Relu, GlobalAveragePool and Constant) made graph
// outputs too (float tensors), for a calibration to read; nullopt when the model cannot be read.
std::optional<std::string> expose_float_outputs(std::string_view model);

}  // namespace dr::runtime
