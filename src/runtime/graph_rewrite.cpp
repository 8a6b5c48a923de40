#include "runtime/graph_rewrite.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "runtime/wire.h"

namespace dr::runtime {
namespace {

using wire::Bytes;
using wire::Field;
using wire::Fixed32;
using wire::parse;
using wire::put_bytes;
using wire::put_float;
using wire::put_varint_field;
using wire::read_varint;
using wire::Varint;

float as_float(uint64_t bits) {
  const auto b = uint32_t(bits);
  float f;
  std::memcpy(&f, &b, 4);
  return f;
}

// ---- the few ONNX messages read here (field numbers from onnx.proto) ---------------------------------------------

namespace model_f {
constexpr uint32_t graph = 7, opset_import = 8;
}
namespace opset_f {
constexpr uint32_t domain = 1, version = 2;
}
namespace value_info_f {
constexpr uint32_t name = 1, type = 2;
}
namespace graph_f {
constexpr uint32_t node = 1, initializer = 5, input = 11, output = 12;
}
namespace node_f {
constexpr uint32_t input = 1, output = 2, op_type = 4, attribute = 5, domain = 7;
}
namespace attr_f {
constexpr uint32_t name = 1, f = 2, i = 3, s = 4, t = 5, g = 6, ints = 8, graphs = 11, type = 20;
constexpr uint64_t type_float = 1, type_int = 2, type_ints = 7;
}  // namespace attr_f
namespace tensor_f {
constexpr uint32_t dims = 1, data_type = 2, float_data = 4, name = 8, raw_data = 9, external_data = 13,
                   data_location = 14;
constexpr uint64_t type_float = 1, type_uint8 = 2, type_int8 = 3, type_int32 = 6, type_int64 = 7;
}  // namespace tensor_f

// A FLOAT tensor's shape and values (raw_data or float_data); nullopt for other types, external data or bad bytes.
struct FloatTensor {
  std::vector<int64_t> dims;
  std::vector<float> values;
};

// Appends a TensorProto dims field (one varint, or packed) to `dims`; false when the packed bytes are malformed.
bool append_dims(const Field& f, std::vector<int64_t>& dims) {
  if (f.wire == Varint) dims.push_back(int64_t(f.value));
  if (f.wire != Bytes) return true;
  size_t i = 0;
  uint64_t d = 0;
  while (i < f.bytes.size()) {
    if (!read_varint(f.bytes, i, d)) return false;
    dims.push_back(int64_t(d));
  }
  return true;
}

std::optional<FloatTensor> read_tensor(std::string_view tensor) {
  auto fs = parse(tensor);
  if (!fs) return std::nullopt;
  FloatTensor t;
  uint64_t type = 0;
  bool raw = false;
  for (const auto& f : *fs) {
    if (f.num == tensor_f::dims) {
      if (!append_dims(f, t.dims)) return std::nullopt;
    } else if (f.num == tensor_f::data_type && f.wire == Varint) {
      type = f.value;
    } else if (f.num == tensor_f::raw_data && f.wire == Bytes) {
      if (f.bytes.size() % 4) return std::nullopt;
      t.values.resize(f.bytes.size() / 4);
      if (!f.bytes.empty()) std::memcpy(t.values.data(), f.bytes.data(), f.bytes.size());
      raw = true;
    } else if (f.num == tensor_f::float_data && !raw) {
      if (f.wire == Fixed32) {
        t.values.push_back(as_float(f.value));
      } else if (f.wire == Bytes && f.bytes.size() % 4 == 0) {
        const size_t n = t.values.size();
        t.values.resize(n + f.bytes.size() / 4);
        if (!f.bytes.empty()) std::memcpy(t.values.data() + n, f.bytes.data(), f.bytes.size());
      }
    } else if (f.num == tensor_f::external_data || (f.num == tensor_f::data_location && f.value != 0)) {
      return std::nullopt;
    }
  }
  uint64_t count = 1;
  for (auto d : t.dims) {
    if (d < 0 || (d > 0 && count > UINT64_MAX / uint64_t(d))) return std::nullopt;
    count *= uint64_t(d);
  }
  if (type != tensor_f::type_float || count != t.values.size()) return std::nullopt;
  return t;
}

// A tensor's dims without reading its values (empty when they cannot be read).
std::vector<int64_t> tensor_dims(std::string_view tensor) {
  std::vector<int64_t> dims;
  auto fs = parse(tensor);
  if (!fs) return dims;
  for (const auto& f : *fs)
    if (f.num == tensor_f::dims && !append_dims(f, dims)) return {};
  return dims;
}

bool has_external_data(std::string_view tensor) {
  auto fs = parse(tensor);
  if (!fs) return true;
  for (const auto& f : *fs)
    if (f.num == tensor_f::external_data || (f.num == tensor_f::data_location && f.value != 0)) return true;
  return false;
}

std::string_view tensor_name(std::string_view tensor) {
  auto fs = parse(tensor);
  if (fs)
    for (const auto& f : *fs)
      if (f.num == tensor_f::name && f.wire == Bytes) return f.bytes;
  return {};
}

std::string tensor_bytes(const std::string& name, const FloatTensor& t) {
  std::string m;
  for (int64_t d : t.dims) put_varint_field(m, tensor_f::dims, uint64_t(d));
  put_varint_field(m, tensor_f::data_type, tensor_f::type_float);
  put_bytes(m, tensor_f::name, name);
  put_bytes(m, tensor_f::raw_data,
            std::string_view(reinterpret_cast<const char*>(t.values.data()), t.values.size() * sizeof(float)));
  return m;
}

// A tensor of any element type from its raw little-endian bytes.
std::string raw_tensor_bytes(const std::string& name, uint64_t type, const std::vector<int64_t>& dims,
                             std::string_view raw) {
  std::string m;
  for (int64_t d : dims) put_varint_field(m, tensor_f::dims, uint64_t(d));
  put_varint_field(m, tensor_f::data_type, type);
  put_bytes(m, tensor_f::name, name);
  put_bytes(m, tensor_f::raw_data, raw);
  return m;
}

template <typename T>
std::string_view raw_of(const std::vector<T>& v) {
  return {reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T)};
}

struct AttrView {
  std::string_view name;
  std::optional<float> f;
  std::optional<int64_t> i;
  std::vector<int64_t> ints;
  std::string_view s, t;
  bool graph = false;
};

std::optional<AttrView> read_attr(std::string_view a) {
  auto fs = parse(a);
  if (!fs) return std::nullopt;
  AttrView v;
  for (const auto& f : *fs) {
    if (f.num == attr_f::name && f.wire == Bytes) v.name = f.bytes;
    if (f.num == attr_f::f && f.wire == Fixed32) v.f = as_float(f.value);
    if (f.num == attr_f::i && f.wire == Varint) v.i = int64_t(f.value);
    if (f.num == attr_f::s && f.wire == Bytes) v.s = f.bytes;
    if (f.num == attr_f::t && f.wire == Bytes) v.t = f.bytes;
    if (f.num == attr_f::ints && f.wire == Varint) v.ints.push_back(int64_t(f.value));
    if (f.num == attr_f::ints && f.wire == Bytes) {
      size_t i = 0;
      uint64_t x = 0;
      while (i < f.bytes.size() && read_varint(f.bytes, i, x)) v.ints.push_back(int64_t(x));
    }
    if (f.num == attr_f::g || f.num == attr_f::graphs) v.graph = true;
  }
  return v;
}

std::string attr_float(std::string_view name, float value) {
  std::string a;
  put_bytes(a, attr_f::name, name);
  put_float(a, attr_f::f, value);
  put_varint_field(a, attr_f::type, attr_f::type_float);
  return a;
}

std::string attr_int(std::string_view name, int64_t value) {
  std::string a;
  put_bytes(a, attr_f::name, name);
  put_varint_field(a, attr_f::i, uint64_t(value));
  put_varint_field(a, attr_f::type, attr_f::type_int);
  return a;
}

std::string attr_ints(std::string_view name, const std::vector<int64_t>& values) {
  std::string a;
  put_bytes(a, attr_f::name, name);
  for (int64_t v : values) put_varint_field(a, attr_f::ints, uint64_t(v));
  put_varint_field(a, attr_f::type, attr_f::type_ints);
  return a;
}

// A node as read (its bytes copied unchanged when it is written back untouched) or as changed or made here.
struct Node {
  std::vector<std::string> in, out;
  std::vector<std::string> attrs;  // AttributeProto bytes
  std::string op, domain;
  std::string_view original;  // the NodeProto's bytes; empty once changed
  bool dead = false;
};

std::string node_bytes(const Node& n) {
  std::string b;
  for (auto& i : n.in) put_bytes(b, node_f::input, i);
  for (auto& o : n.out) put_bytes(b, node_f::output, o);
  put_bytes(b, node_f::op_type, n.op);
  for (auto& a : n.attrs) put_bytes(b, node_f::attribute, a);
  if (!n.domain.empty()) put_bytes(b, node_f::domain, n.domain);
  return b;
}

class Rewriter {
 public:
  // False when the graph is not one this reader handles (subgraphs, external data, unreadable fields).
  bool load(std::string_view graph) {
    auto fs = parse(graph);
    if (!fs) return false;
    fields_ = std::move(*fs);
    std::set<std::string> graph_inputs;
    for (size_t i = 0; i < fields_.size(); ++i) {
      const Field& f = fields_[i];
      if (f.wire != Bytes) continue;
      if (f.num == graph_f::node) {
        auto nf = parse(f.bytes);
        if (!nf) return false;
        Node n;
        n.original = f.bytes;
        for (const auto& x : *nf) {
          if (x.wire != Bytes) continue;
          if (x.num == node_f::input) n.in.emplace_back(x.bytes);
          if (x.num == node_f::output) n.out.emplace_back(x.bytes);
          if (x.num == node_f::op_type) n.op = x.bytes;
          if (x.num == node_f::domain) n.domain = x.bytes;
          if (x.num == node_f::attribute) n.attrs.emplace_back(x.bytes);
        }
        for (auto& a : n.attrs) {
          auto av = read_attr(a);
          if (!av || av->graph) return false;  // a subgraph may read any outer name: leave such graphs alone
        }
        node_field_.push_back(i);
        nodes_.push_back(std::move(n));
      } else if (f.num == graph_f::initializer) {
        if (has_external_data(f.bytes)) return false;  // loaded from memory, its files could not be found
        tensors_[std::string(tensor_name(f.bytes))] = f.bytes;
      } else if (f.num == graph_f::output || f.num == graph_f::input) {
        if (auto vf = parse(f.bytes))
          for (const auto& x : *vf)
            if (x.num == 1 && x.wire == Bytes)
              (f.num == graph_f::output ? graph_outputs_ : graph_inputs).insert(std::string(x.bytes));
      }
    }
    // An initializer that is also a graph input (IR version 3 and before) is only a default the caller may replace:
    // never a constant to fold.
    for (const auto& name : graph_inputs) tensors_.erase(name);
    for (size_t k = 0; k < nodes_.size(); ++k) {
      const Node& n = nodes_[k];
      for (auto& i : n.in) consumers_[i].insert(k);
      for (auto& o : n.out) names_.insert(o), producer_[o] = k;
      if (is_onnx(n) && n.op == "Constant" && n.out.size() == 1)
        for (auto& a : n.attrs) {
          auto av = read_attr(a);
          if (av && av->name == "value" && !av->t.empty()) tensors_[n.out[0]] = av->t;
          if (av && av->name == "value_float" && av->f) scalars_[n.out[0]] = *av->f;
        }
    }
    return true;
  }

  // Mul(s, h) -> Add(., b) -> Conv without padding: the next convolution takes h with weights s * W and biases
  // B + b * (sum of W over its inputs and window). Without padding every output reads only real inputs, so this is
  // exact; with zero padding the borders would differ, so such convolutions are left alone.
  int fold_affine_into_next_conv() {
    int count = 0;
    for (size_t k = 0; k < nodes_.size(); ++k) {
      auto a = affine_at(k);
      if (!a) continue;
      auto conv = only_consumer(nodes_[a->add].out[0], "Conv");
      if (!conv || nodes_[*conv].in[0] != nodes_[a->add].out[0] || !unpadded(nodes_[*conv])) continue;
      auto p = conv_params(*conv);
      if (!p) continue;
      auto& [w, bias] = *p;
      const size_t outs = bias.values.size(), per = w.values.size() / outs;
      for (size_t o = 0; o < outs; ++o) {
        double sum = 0;
        for (size_t i = 0; i < per; ++i) sum += w.values[o * per + i];
        bias.values[o] += float(a->b * sum);
      }
      for (auto& v : w.values) v *= a->s;
      set_weights(*conv, std::move(w), std::move(bias));
      set_input(*conv, 0, a->operand);
      kill(a->mul);
      kill(a->add);
      ++count;
    }
    return count;
  }

  // Conv -> Mul(., s) -> Add(., b): one convolution with weights s * W and biases s * B + b.
  int fold_affine_into_conv() {
    int count = 0;
    for (size_t k = 0; k < nodes_.size(); ++k) {
      if (!live(k, "Conv") || nodes_[k].in.size() < 2) continue;
      auto mul = only_consumer(nodes_[k].out[0], "Mul");
      auto a = mul ? affine_at(*mul) : std::nullopt;
      if (!a || a->operand != nodes_[k].out[0]) continue;
      auto p = conv_params(k);
      if (!p) continue;
      auto& [w, bias] = *p;
      for (auto& v : w.values) v *= a->s;
      for (auto& v : bias.values) v = v * a->s + a->b;
      set_weights(k, std::move(w), std::move(bias));
      change(k).out[0] = nodes_[a->add].out[0];
      kill(a->mul);
      kill(a->add);
      ++count;
    }
    return count;
  }

  // Add(x, 3) -> Clip(0, 6) -> Mul(x, .) -> Div(., 6), or with the Div before the Mul: x * HardSigmoid(x).
  int fuse_hard_swish() {
    int count = 0;
    for (size_t k = 0; k < nodes_.size(); ++k) {
      if (!live(k, "Add")) continue;
      auto [x, three] = operand_and_scalar(nodes_[k]);
      if (three != 3.f) continue;
      auto clip = only_consumer(nodes_[k].out[0], "Clip");
      if (!clip || nodes_[*clip].in[0] != nodes_[k].out[0] || !clips_to_0_6(nodes_[*clip])) continue;
      const std::string cl = nodes_[*clip].out[0];
      size_t middle = 0, last = 0;
      if (auto mul = only_consumer(cl, "Mul"); mul && takes(nodes_[*mul], x, cl)) {
        auto div = only_consumer(nodes_[*mul].out[0], "Div");
        if (!div || !divides_by_6(nodes_[*div], nodes_[*mul].out[0])) continue;
        middle = *mul;
        last = *div;
      } else if (auto div = only_consumer(cl, "Div"); div && divides_by_6(nodes_[*div], cl)) {
        auto mul = only_consumer(nodes_[*div].out[0], "Mul");
        if (!mul || !takes(nodes_[*mul], x, nodes_[*div].out[0])) continue;
        middle = *div;
        last = *mul;
      } else {
        continue;
      }
      std::string sig = nodes_[last].out[0] + "/darkroom_hardsigmoid";
      while (names_.count(sig)) sig += "_";
      names_.insert(sig);
      Node hs;
      hs.op = "HardSigmoid";
      hs.in = {x};
      hs.out = {sig};
      hs.attrs = {attr_float("alpha", 1.f / 6), attr_float("beta", 0.5f)};
      Node mul;
      mul.op = "Mul";
      mul.in = {x, sig};
      mul.out = {nodes_[last].out[0]};
      kill(k);
      kill(*clip);
      kill(middle);
      kill(last);
      inserted_[last] = {std::move(hs), std::move(mul)};
      ++count;
    }
    return count;
  }

  // The remaining Mul(., s) -> Add(., b) by scalars, on a tensor whose channel count is known: a depthwise 1x1
  // convolution with weights s and biases b. Same arithmetic, but ONNX Runtime keeps a convolution in its blocked
  // (NCHWc) layout, where element-wise nodes by a scalar make it convert the tensor out of that layout and back.
  int affine_to_depthwise() {
    int count = 0;
    for (size_t k = 0; k < nodes_.size(); ++k) {
      auto a = affine_at(k);
      if (!a) continue;
      auto c = channels(a->operand);
      if (!c) continue;
      Node conv = depthwise(a->operand, nodes_[a->add].out[0], *c, a->s, a->b);
      kill(a->mul);
      kill(a->add);
      inserted_[a->add].push_back(std::move(conv));
      ++count;
    }
    return count;
  }

  // Opset 10 made Slice's starts, ends and axes inputs; before lifting an opset-9 graph to 10, its Slices are
  // rewritten so. False when the graph holds another node whose meaning changed at opset 10 (it stays as it is).
  bool slices_to_opset_10() {
    for (const Node& n : nodes_)
      if (is_onnx(n) && (n.op == "Upsample" || n.op == "TopK" || n.op == "Resize")) return false;
    for (size_t k = 0; k < nodes_.size(); ++k) {
      if (!live(k, "Slice")) continue;
      // The names are copied: read_attr's views point into the attributes, which are replaced below.
      std::map<std::string, std::vector<int64_t>> a;
      for (auto& attr : nodes_[k].attrs)
        if (auto av = read_attr(attr)) a[std::string(av->name)] = av->ints;
      if (!a.count("starts") || !a.count("ends")) continue;
      Node& n = change(k);
      n.attrs.clear();
      for (const char* key : {"starts", "ends", "axes"}) {
        if (!a.count(key)) break;
        n.in.push_back(constant(n.out[0] + "/darkroom_" + key, tensor_f::type_int64, a[key], {int64_t(a[key].size())}));
      }
    }
    return true;
  }

  // The int8 pass (graph_rewrite.h). Returns {convolutions, hard-swishes} quantised.
  std::pair<int, int> quantize(const Int8Ranges& ranges) {
    ranges_ = &ranges;
    int convs = 0, swishes = 0;
    for (size_t k = 0; k < nodes_.size(); ++k) {
      if (nodes_[k].dead) continue;
      if (live(k, "Conv") && quantize_conv(k)) {
        ++convs;
        continue;
      }
      if (live(k, "HardSigmoid") && quantize_hard_swish(k)) {
        ++swishes;
        continue;
      }
      // A node left in float reads the float value of a tensor that now exists only quantised.
      for (const auto& i : nodes_[k].in) {
        auto q = q_.find(i);
        if (q == q_.end() || float_ok_.count(i)) continue;
        inserted_[k].push_back(make_node("DequantizeLinear", {q->second.q, q->second.scale, q->second.zp}, i));
        float_ok_.insert(i);
      }
    }
    return {convs, swishes};
  }

  // Marks the outputs of the nodes a calibration reads as graph outputs; returns how many. Only the convolutional
  // trunk is read: the nodes before the first one of another kind than these (in PP-OCRv4's recognizer, the
  // AveragePool where its SVTR neck begins; quantising the neck's few convolutions too cost a letter on one
  // benchmark image and no time).
  int expose() {
    static const std::set<std::string_view> trunk = {"Conv", "BatchNormalization", "Add",     "Mul", "HardSigmoid",
                                                     "Relu", "GlobalAveragePool",  "Constant"};
    int count = 0;
    for (const Node& n : nodes_) {
      if (!is_onnx(n) || !trunk.count(n.op)) break;
      if (n.out.empty() || n.op == "Relu" || n.op == "GlobalAveragePool" || n.op == "Constant") continue;
      if (graph_outputs_.count(n.out[0])) continue;
      graph_outputs_.insert(n.out[0]);
      extra_outputs_.push_back(n.out[0]);
      ++count;
    }
    return count;
  }

  std::string graph_bytes() const {
    std::string out;
    size_t node = 0;
    for (size_t i = 0; i < fields_.size(); ++i) {
      if (node < node_field_.size() && node_field_[node] == i) {
        const Node& n = nodes_[node];
        if (auto it = inserted_.find(node); it != inserted_.end())
          for (const auto& extra : it->second) put_bytes(out, graph_f::node, node_bytes(extra));
        if (!n.dead) {
          if (!n.original.empty())
            out.append(fields_[i].whole);
          else
            put_bytes(out, graph_f::node, node_bytes(n));
        }
        ++node;
        continue;
      }
      out.append(fields_[i].whole);
    }
    for (const auto& [name, t] : new_tensors_) put_bytes(out, graph_f::initializer, tensor_bytes(name, t));
    for (const auto& [name, t] : new_raw_) put_bytes(out, graph_f::initializer, t);
    for (const auto& name : extra_outputs_) {
      std::string tensor_type, type, vi;
      put_varint_field(tensor_type, 1, tensor_f::type_float);  // TypeProto.Tensor.elem_type
      put_bytes(type, 1, tensor_type);                         // TypeProto.tensor_type
      put_bytes(vi, value_info_f::name, name);
      put_bytes(vi, value_info_f::type, type);
      put_bytes(out, graph_f::output, vi);
    }
    return out;
  }

 private:
  static bool is_onnx(const Node& n) { return n.domain.empty() || n.domain == "ai.onnx"; }

  bool live(size_t k, std::string_view op) const {
    const Node& n = nodes_[k];
    return !n.dead && is_onnx(n) && n.op == op && n.out.size() == 1 && !n.in.empty();
  }

  std::optional<float> scalar(const std::string& name) const {
    if (auto it = scalars_.find(name); it != scalars_.end()) return it->second;
    auto t = tensor(name);
    if (t && t->values.size() == 1) return t->values[0];
    return std::nullopt;
  }

  // A constant of one value and at most 4 dimensions: broadcast against a convolution's output, it leaves the
  // output's shape as it is.
  bool small_scalar(const std::string& name) const {
    if (scalars_.count(name)) return true;
    auto dims = dims_of(name);
    if (!dims || dims->size() > 4) return false;
    for (auto d : *dims)
      if (d != 1) return false;
    return scalar(name).has_value();
  }

  // A constant's dims (folded ones included) without reading its values; nullopt for a name that is no constant.
  std::optional<std::vector<int64_t>> dims_of(const std::string& name) const {
    if (auto it = new_tensors_.find(name); it != new_tensors_.end()) return it->second.dims;
    if (auto it = tensors_.find(name); it != tensors_.end()) return tensor_dims(it->second);
    return std::nullopt;
  }

  std::optional<FloatTensor> tensor(const std::string& name) const {
    if (auto it = new_tensors_.find(name); it != new_tensors_.end()) return it->second;
    if (auto it = tensors_.find(name); it != tensors_.end()) return read_tensor(it->second);
    return std::nullopt;
  }

  // For a two-input element-wise node: the input that is not a constant scalar, and the scalar.
  std::pair<std::string, std::optional<float>> operand_and_scalar(const Node& n) const {
    if (n.in.size() != 2) return {"", std::nullopt};
    if (auto v = scalar(n.in[1]); v && !scalar(n.in[0])) return {n.in[0], v};
    if (auto v = scalar(n.in[0]); v && !scalar(n.in[1])) return {n.in[1], v};
    return {"", std::nullopt};
  }

  // The one live node reading `name`, when it is of type `op` and `name` is not also a graph output.
  std::optional<size_t> only_consumer(const std::string& name, std::string_view op) const {
    if (graph_outputs_.count(name)) return std::nullopt;
    auto it = consumers_.find(name);
    if (it == consumers_.end() || it->second.size() != 1) return std::nullopt;
    const size_t k = *it->second.begin();
    if (!live(k, op)) return std::nullopt;
    size_t reads = 0;  // Mul(x, x) reads x twice through one node
    for (auto& i : nodes_[k].in) reads += i == name;
    if (reads != 1) return std::nullopt;
    return k;
  }

  static const std::string& other_input(const Node& n, const std::string& one) {
    return n.in[0] == one ? n.in[1] : n.in[0];
  }

  static bool takes(const Node& n, const std::string& a, const std::string& b) {
    return n.in.size() == 2 && ((n.in[0] == a && n.in[1] == b) || (n.in[0] == b && n.in[1] == a));
  }

  bool divides_by_6(const Node& div, const std::string& what) const {
    return div.in.size() == 2 && div.in[0] == what && scalar(div.in[1]) == 6.f;
  }

  bool clips_to_0_6(const Node& clip) const {
    std::optional<float> lo, hi;
    for (auto& a : clip.attrs) {  // opsets before 11
      auto av = read_attr(a);
      if (av && av->name == "min") lo = av->f;
      if (av && av->name == "max") hi = av->f;
    }
    if (clip.in.size() >= 2 && !clip.in[1].empty()) lo = scalar(clip.in[1]);
    if (clip.in.size() >= 3 && !clip.in[2].empty()) hi = scalar(clip.in[2]);
    return lo == 0.f && hi == 6.f;
  }

  // The channel count of a 4-d tensor made by a 2-d convolution, possibly through element-wise nodes (when their other
  // operand is a scalar, or has the same count). `budget` bounds the walk, which branches at each binary node.
  std::optional<int64_t> channels(const std::string& name, int& budget) const {
    if (--budget < 0) return std::nullopt;
    auto it = producer_.find(name);
    if (it == producer_.end()) return std::nullopt;
    const Node& n = nodes_[it->second];
    if (!is_onnx(n) || n.in.empty()) return std::nullopt;
    if (n.op == "Conv") {
      auto dims = n.in.size() >= 2 ? dims_of(n.in[1]) : std::nullopt;
      // A count no real model has would only be a malformed file asking for a huge allocation.
      if (!dims || dims->size() != 4 || (*dims)[0] <= 0 || (*dims)[0] > (1 << 16)) return std::nullopt;
      return (*dims)[0];
    }
    if (n.op == "HardSigmoid" || n.op == "Relu" || n.op == "Clip") return channels(n.in[0], budget);
    if ((n.op == "Mul" || n.op == "Add" || n.op == "Div" || n.op == "Sub") && n.in.size() == 2) {
      if (n.in[0] == n.in[1] || small_scalar(n.in[1])) return channels(n.in[0], budget);
      if (small_scalar(n.in[0])) return channels(n.in[1], budget);
      auto a = channels(n.in[0], budget);
      if (a && a == channels(n.in[1], budget)) return a;
    }
    return std::nullopt;
  }
  std::optional<int64_t> channels(const std::string& name) const {
    int budget = 64;
    return channels(name, budget);
  }

  // Conv(x) with group = channels, 1x1 kernels of weight s and biases b: y = s * x + b per channel.
  Node depthwise(const std::string& x, const std::string& y, int64_t c, float s, float b) {
    std::string wn = fresh(y + "/darkroom_dw_w"), bn = fresh(y + "/darkroom_dw_b");
    new_tensors_[wn] = FloatTensor{{c, 1, 1, 1}, std::vector<float>(size_t(c), s)};
    new_tensors_[bn] = FloatTensor{{c}, std::vector<float>(size_t(c), b)};
    Node n;
    n.op = "Conv";
    n.in = {x, wn, bn};
    n.out = {y};
    n.attrs = {attr_int("group", c), attr_ints("kernel_shape", {1, 1})};
    return n;
  }

  static bool unpadded(const Node& conv) {
    for (auto& a : conv.attrs) {
      auto av = read_attr(a);
      if (!av) return false;
      if (av->name == "pads")
        for (auto p : av->ints)
          if (p != 0) return false;
      if (av->name == "auto_pad" && av->s != "NOTSET" && av->s != "VALID") return false;
    }
    return true;
  }

  // The convolution's biases, or zeros when it has none; nullopt when they cannot be read.
  std::optional<FloatTensor> conv_bias(const Node& conv, int64_t outs) const {
    if (conv.in.size() < 3 || conv.in[2].empty()) return FloatTensor{{outs}, std::vector<float>(size_t(outs), 0.f)};
    auto b = tensor(conv.in[2]);
    if (!b || b->values.size() != size_t(outs)) return std::nullopt;
    b->dims = {outs};
    return b;
  }

  // Mul(operand, s) at node `mul`, then Add(., b) as its only consumer, s and b constant scalars.
  struct Affine {
    std::string operand;
    float s = 1, b = 0;
    size_t mul = 0, add = 0;
  };
  std::optional<Affine> affine_at(size_t mul) const {
    if (!live(mul, "Mul")) return std::nullopt;
    auto [operand, s] = operand_and_scalar(nodes_[mul]);
    if (!s || !small_scalar(other_input(nodes_[mul], operand))) return std::nullopt;
    auto add = only_consumer(nodes_[mul].out[0], "Add");
    if (!add) return std::nullopt;
    auto [m, b] = operand_and_scalar(nodes_[*add]);
    if (!b || m != nodes_[mul].out[0] || !small_scalar(other_input(nodes_[*add], m))) return std::nullopt;
    return Affine{operand, *s, *b, mul, *add};
  }

  // A convolution's weights [outs, ins / group, kernel...] and biases [outs] (zeros when it has none).
  std::optional<std::pair<FloatTensor, FloatTensor>> conv_params(size_t conv) const {
    auto w = tensor(nodes_[conv].in.size() > 1 ? nodes_[conv].in[1] : "");
    if (!w || w->dims.size() < 3 || w->dims[0] <= 0 || w->values.empty() || size_t(w->dims[0]) > w->values.size())
      return std::nullopt;
    auto bias = conv_bias(nodes_[conv], w->dims[0]);
    if (!bias) return std::nullopt;
    return std::pair{std::move(*w), std::move(*bias)};
  }

  Node& change(size_t k) {
    nodes_[k].original = {};
    return nodes_[k];
  }

  void set_input(size_t k, size_t slot, const std::string& name) {
    Node& n = change(k);
    if (n.in.size() <= slot) n.in.resize(slot + 1);
    if (!n.in[slot].empty()) consumers_[n.in[slot]].erase(k);
    n.in[slot] = name;
    // A name read twice by one node stays counted once, as load() counts it.
    consumers_[name].insert(k);
  }

  void set_weights(size_t k, FloatTensor w, FloatTensor b) {
    // Weights folded earlier and replaced now are not written.
    for (size_t slot : {size_t(1), size_t(2)})
      if (nodes_[k].in.size() > slot) new_tensors_.erase(nodes_[k].in[slot]);
    std::string wn = fresh(nodes_[k].out[0] + "/darkroom_w"), bn = fresh(nodes_[k].out[0] + "/darkroom_b");
    new_tensors_[wn] = std::move(w);
    new_tensors_[bn] = std::move(b);
    set_input(k, 1, wn);
    set_input(k, 2, bn);
  }

  std::string fresh(std::string name) {
    while (names_.count(name) || tensors_.count(name) || new_tensors_.count(name)) name += "_";
    names_.insert(name);
    return name;
  }

  void kill(size_t k) {
    nodes_[k].dead = true;
    for (auto& i : nodes_[k].in) consumers_[i].erase(k);
  }

  // ---- int8 ----------------------------------------------------------------------------------------------------

  struct QTensor {
    std::string q, scale, zp;  // the uint8 tensor and its scale and zero point (initializer names)
    float s = 1;
    int z = 0;
  };

  static Node make_node(std::string op, std::vector<std::string> in, std::string out, std::string domain = {}) {
    Node n;
    n.op = std::move(op);
    n.in = std::move(in);
    n.out = {std::move(out)};
    n.domain = std::move(domain);
    return n;
  }

  // A new initializer of `type` holding `values`, named after `base`; returns its name.
  template <typename T>
  std::string constant(const std::string& base, uint64_t type, const std::vector<T>& values,
                       std::vector<int64_t> dims = {}) {
    const std::string name = fresh(base);
    new_raw_[name] = raw_tensor_bytes(name, type, dims, raw_of(values));
    return name;
  }
  std::string scalar_tensor(const std::string& base, float v) {
    return constant(base, tensor_f::type_float, std::vector<float>{v});
  }
  std::string u8_tensor(const std::string& base, uint8_t v, std::vector<int64_t> dims = {}) {
    return constant(base, tensor_f::type_uint8, std::vector<uint8_t>{v}, std::move(dims));
  }

  // Scale and zero point for values in [lo, hi] (widened to hold 0, which must be exact: it is the padding).
  static std::pair<float, int> qparams(float lo, float hi) {
    lo = std::min(lo, 0.f);
    hi = std::max(hi, 0.f);
    const float s = std::max(hi - lo, 1e-6f) / 255.f;
    return {s, std::clamp(int(std::lround(-lo / s)), 0, 255)};
  }

  // Names the uint8 version of `name` with the given parameters (the tensor itself is made by the caller).
  QTensor new_q(const std::string& name, float s, int z) {
    QTensor t;
    t.q = fresh(name + "/darkroom_u8");
    t.scale = scalar_tensor(name + "/darkroom_scale", s);
    t.zp = u8_tensor(name + "/darkroom_zero_point", uint8_t(z));
    t.s = s;
    t.z = z;
    return t;
  }

  std::optional<std::pair<float, float>> range_of(const std::string& name) const {
    auto it = ranges_->find(name);
    // A span too wide for a float (-3e38 to 3e38) would make an infinite step.
    if (it == ranges_->end() || !std::isfinite(it->second.first) || !std::isfinite(it->second.second) ||
        it->second.first > it->second.second || !std::isfinite(it->second.second - it->second.first))
      return std::nullopt;
    return it->second;
  }

  // The uint8 version of a node's input: made earlier, or quantised here (before node k) from its range.
  std::optional<QTensor> input_q(size_t k, const std::string& x) {
    if (auto it = q_.find(x); it != q_.end()) return it->second;
    auto r = range_of(x);
    if (!r) return std::nullopt;
    auto [s, z] = qparams(r->first, r->second);
    QTensor t = new_q(x, s, z);
    inserted_[k].push_back(make_node("QuantizeLinear", {x, t.scale, t.zp}, t.q));
    float_ok_.insert(x);  // made by a float node, so still there
    q_[x] = t;
    return t;
  }

  // BatchNormalization(y) folded into the convolution's weights and biases; false when its constants are unusable.
  bool fold_batch_norm(const Node& bn, FloatTensor& w, FloatTensor& b) const {
    if (bn.in.size() != 5) return false;
    std::vector<std::vector<float>> p;
    for (size_t i = 1; i < 5; ++i) {
      auto t = tensor(bn.in[i]);
      if (!t || t->values.size() != b.values.size()) return false;
      p.push_back(std::move(t->values));
    }
    float eps = 1e-5f;
    for (auto& a : bn.attrs)
      if (auto av = read_attr(a); av && av->name == "epsilon" && av->f) eps = *av->f;
    const size_t outs = b.values.size(), per = w.values.size() / outs;
    for (size_t o = 0; o < outs; ++o) {
      const double k = p[0][o] / std::sqrt(double(p[3][o]) + eps);
      for (size_t i = 0; i < per; ++i) w.values[o * per + i] = float(w.values[o * per + i] * k);
      b.values[o] = float((b.values[o] - p[2][o]) * k + p[1][o]);
    }
    return true;
  }

  bool quantize_conv(size_t k) {
    const Node c = nodes_[k];
    if (c.in.size() < 2) return false;
    for (auto& a : c.attrs)
      if (auto av = read_attr(a); !av || (av->name == "auto_pad" && av->s != "NOTSET")) return false;
    auto p = conv_params(k);
    if (!p || p->first.dims.size() != 4) return false;
    auto& [w, b] = *p;
    // (an index and a flag rather than an optional, which GCC 12 wrongly calls maybe-uninitialised)
    const size_t bn = only_consumer(c.out[0], "BatchNormalization").value_or(nodes_.size());
    const bool has_bn = bn < nodes_.size() && nodes_[bn].in[0] == c.out[0] && fold_batch_norm(nodes_[bn], w, b);
    const std::string y = has_bn ? nodes_[bn].out[0] : c.out[0];
    auto ry = range_of(y);
    if (!ry || graph_outputs_.count(y)) return false;
    // Weights or biases that are not finite (in the file, or made so by the folded BatchNormalization) have no int8
    // form: converting a NaN step count to an integer is undefined behaviour. Such a convolution stays in float.
    auto finite = [](const std::vector<float>& v) {
      return std::all_of(v.begin(), v.end(), [](float x) { return std::isfinite(x); });
    };
    if (!finite(w.values) || !finite(b.values)) return false;
    auto xq = input_q(k, c.in[0]);
    if (!xq) return false;
    const size_t outs = b.values.size(), per = w.values.size() / outs;
    std::vector<float> ws(outs);
    std::vector<int8_t> wq(w.values.size());
    std::vector<int32_t> bq(outs);
    for (size_t o = 0; o < outs; ++o) {
      float m = 0;
      for (size_t i = 0; i < per; ++i) m = std::max(m, std::abs(w.values[o * per + i]));
      // (weights so small that their step underflows to 0, 1e-43, are zeros: a step of 0 would divide by 0)
      ws[o] = m / 127.f > 0 ? m / 127.f : 1.f;
      for (size_t i = 0; i < per; ++i)
        wq[o * per + i] = int8_t(std::clamp(std::lround(w.values[o * per + i] / ws[o]), -127L, 127L));
      const double q = std::round(double(b.values[o]) / (double(xq->s) * ws[o]));
      bq[o] = int32_t(std::clamp(q, -2147483647.0, 2147483647.0));
    }
    auto [s, z] = qparams(ry->first, ry->second);
    QTensor yq = new_q(y, s, z);
    const int64_t n_out = int64_t(outs);
    const std::string wn = constant(y + "/darkroom_w_s8", tensor_f::type_int8, wq, w.dims),
                      wsn = constant(y + "/darkroom_w_scale", tensor_f::type_float, ws, {n_out}),
                      wzn = constant(y + "/darkroom_w_zero_point", tensor_f::type_int8, std::vector<int8_t>(outs, 0),
                                     {n_out}),
                      bn_name = constant(y + "/darkroom_b_s32", tensor_f::type_int32, bq, {n_out});
    Node qc = make_node("QLinearConv", {xq->q, xq->scale, xq->zp, wn, wsn, wzn, yq.scale, yq.zp, bn_name}, yq.q);
    qc.attrs = c.attrs;
    inserted_[k].push_back(std::move(qc));
    kill(k);
    if (has_bn) kill(bn);
    q_[y] = yq;
    return true;
  }

  // A depthwise 1x1 convolution with one weight s > 0 and one bias b for every channel, no padding, stride 1.
  std::optional<std::pair<float, float>> uniform_affine(size_t k) const {
    auto p = conv_params(k);
    if (!p || p->first.dims.size() != 4 || !unpadded(nodes_[k])) return std::nullopt;
    const auto& [w, b] = *p;
    const auto& d = w.dims;
    if (d[1] != 1 || d[2] != 1 || d[3] != 1) return std::nullopt;
    bool depthwise = false;  // group = output channels, with one input channel each: as many in as out
    for (auto& a : nodes_[k].attrs) {
      auto av = read_attr(a);
      if (!av) return std::nullopt;
      if (av->name == "group") depthwise = av->i == d[0];
      if (av->name == "strides")
        for (auto v : av->ints)
          if (v != 1) return std::nullopt;
    }
    if (!depthwise) return std::nullopt;
    const float s = w.values[0], bias = b.values[0];
    if (!(s > 0)) return std::nullopt;
    for (float v : w.values)
      if (v != s) return std::nullopt;
    for (float v : b.values)
      if (v != bias) return std::nullopt;
    return std::pair{s, bias};
  }

  bool quantize_hard_swish(size_t k) {
    const Node h = nodes_[k];
    const std::string& x = h.in[0];
    auto xq = q_.find(x);
    if (xq == q_.end()) return false;
    std::optional<float> alpha, beta;
    for (auto& a : h.attrs)
      if (auto av = read_attr(a)) {
        if (av->name == "alpha") alpha = av->f;
        if (av->name == "beta") beta = av->f;
      }
    if (!alpha || !beta || std::abs(*alpha - 1.f / 6) > 1e-6f || std::abs(*beta - 0.5f) > 1e-6f) return false;
    auto mul = only_consumer(h.out[0], "Mul");
    if (!mul || !takes(nodes_[*mul], x, h.out[0])) return false;
    const std::string y = nodes_[*mul].out[0];
    if (graph_outputs_.count(y)) return false;
    // The product's uint8 output: of y itself, or of s * y + b when a scalar affine (a depthwise 1x1 convolution)
    // follows, whose output z is then these very bytes read with z's scale and zero point.
    std::string out_name = y, out_scale, out_zp;
    QTensor result;
    std::optional<size_t> folded;
    if (auto dw = only_consumer(y, "Conv"); dw && nodes_[*dw].in[0] == y && !graph_outputs_.count(nodes_[*dw].out[0]))
      if (auto a = uniform_affine(*dw))
        if (auto rz = range_of(nodes_[*dw].out[0])) {
          auto [sz, zz] = qparams(rz->first, rz->second);
          // b must be a whole number of z's steps to move into the zero point exactly: the step is nudged.
          const long kb = std::lround(a->second / sz);
          if (kb != 0) {
            sz = a->second / float(kb);
            zz = int(std::lround(-std::min(rz->first, 0.f) / sz));
          }
          const long zo = zz + kb;
          if (sz > 0 && zz >= 0 && zz <= 255 && zo >= 0 && zo <= 255) {
            out_name = nodes_[*dw].out[0];
            result = new_q(out_name, sz, zz);
            out_scale = scalar_tensor(out_name + "/darkroom_product_scale", sz / a->first);
            out_zp = u8_tensor(out_name + "/darkroom_product_zero_point", uint8_t(zo));
            folded = dw;
          }
        }
    if (!folded) {
      auto ry = range_of(y);
      if (!ry) return false;
      auto [s, z] = qparams(ry->first, ry->second);
      result = new_q(y, s, z);
      out_scale = result.scale;
      out_zp = result.zp;
    }
    if (zero_.empty()) {
      zero_ = u8_tensor("darkroom_int8/zero", 0, {1});
      one_ = scalar_tensor("darkroom_int8/one", 1.f);
      zero_zp_ = u8_tensor("darkroom_int8/zero_point", 0);
      sig_in_scale_ = scalar_tensor("darkroom_int8/hard_sigmoid_in_scale", 6.f / 255);
      sig_in_zp_ = u8_tensor("darkroom_int8/hard_sigmoid_in_zero_point", 128);
      sig_scale_ = scalar_tensor("darkroom_int8/hard_sigmoid_scale", 1.f / 255);
    }
    const QTensor& in = xq->second;
    const std::string sig = fresh(y + "/darkroom_hard_sigmoid_u8");
    // x in steps of 6/255 around 128, saturated to 0..255, is (x / 6 + 0.5) * 255 clipped: HardSigmoid(x) in
    // steps of 1/255 (its 0.5 offset off by half a step, 128 against 127.5).
    inserted_[k].push_back(make_node(
        "QLinearAdd", {in.q, in.scale, in.zp, zero_, one_, zero_zp_, sig_in_scale_, sig_in_zp_}, sig, "com.microsoft"));
    inserted_[k].push_back(make_node("QLinearMul",
                                     {in.q, in.scale, in.zp, sig, sig_scale_, zero_zp_, out_scale, out_zp}, result.q,
                                     "com.microsoft"));
    kill(k);
    kill(*mul);
    if (folded) kill(*folded);
    q_[out_name] = result;
    return true;
  }

  std::vector<Field> fields_;
  std::vector<size_t> node_field_;  // node index -> index in fields_
  std::vector<Node> nodes_;
  std::map<std::string, std::string_view> tensors_;  // initializers and Constant values: name -> TensorProto bytes
  std::map<std::string, float> scalars_;             // Constant value_float
  std::map<std::string, FloatTensor> new_tensors_;   // folded weights, written as initializers
  std::map<std::string, std::set<size_t>> consumers_;
  std::set<std::string> graph_outputs_, names_;
  std::map<size_t, std::vector<Node>> inserted_;  // node index -> new nodes written in its place
  // Output name -> the node that made it, as loaded. Not updated by the rewrites: channels() may walk through nodes
  // they replaced, which is right because no rewrite here changes a tensor's channel count.
  std::map<std::string, size_t> producer_;
  std::map<std::string, std::string> new_raw_;  // initializers made by the int8 pass, as TensorProto bytes
  std::vector<std::string> extra_outputs_;      // graph outputs added by expose()
  const Int8Ranges* ranges_ = nullptr;
  std::map<std::string, QTensor> q_;  // float tensor name -> its uint8 version
  std::set<std::string> float_ok_;    // names of quantised tensors whose float value exists too
  std::string zero_, one_, zero_zp_, sig_in_scale_, sig_in_zp_, sig_scale_;
};

}  // namespace

namespace {

// The model's single graph field, or null.
const Field* graph_field(const std::vector<Field>& fs) {
  const Field* graph = nullptr;
  for (const auto& f : fs)
    if (f.num == model_f::graph && f.wire == Bytes) {
      if (graph) return nullptr;  // one graph only
      graph = &f;
    }
  return graph;
}

// The version of an OperatorSetIdProto for `domain`, when it is one.
std::optional<int64_t> opset_version(const Field& f, std::string_view domain) {
  if (f.num != model_f::opset_import || f.wire != Bytes) return std::nullopt;
  auto fs = parse(f.bytes);
  if (!fs) return std::nullopt;
  std::string_view d;
  int64_t v = 0;
  for (const auto& x : *fs) {
    if (x.num == opset_f::domain && x.wire == Bytes) d = x.bytes;
    if (x.num == opset_f::version && x.wire == Varint) v = int64_t(x.value);
  }
  if (d == "ai.onnx") d = "";
  if (d != domain) return std::nullopt;
  return v;
}

// A model's fields, the index of its graph among them, and that graph loaded into a Rewriter; nullopt when any of
// these cannot be read.
struct LoadedModel {
  std::vector<Field> fields;
  size_t graph = 0;
  Rewriter rewriter;
};
std::optional<LoadedModel> load_model(std::string_view model) {
  auto fs = parse(model);
  if (!fs) return std::nullopt;
  const Field* graph = graph_field(*fs);
  if (!graph) return std::nullopt;
  LoadedModel m;
  m.graph = size_t(graph - fs->data());
  if (!m.rewriter.load(graph->bytes)) return std::nullopt;
  m.fields = std::move(*fs);  // the fields point into `model`, not into the vector
  return m;
}

std::string opset_bytes(std::string_view domain, int64_t version) {
  std::string o;
  if (!domain.empty()) put_bytes(o, opset_f::domain, domain);
  put_varint_field(o, opset_f::version, uint64_t(version));
  return o;
}

}  // namespace

std::optional<std::string> rewrite_graph(std::string_view model, RewriteStats* stats, const Int8Ranges* int8) {
  auto m = load_model(model);
  if (!m) return std::nullopt;
  const Field* graph = &m->fields[m->graph];
  Rewriter& r = m->rewriter;
  RewriteStats st;
  st.affine_into_next_conv = r.fold_affine_into_next_conv();
  st.affine_into_conv = r.fold_affine_into_conv();
  st.hard_swish = r.fuse_hard_swish();
  st.affine_depthwise = r.affine_to_depthwise();
  bool changed = st.affine_into_next_conv + st.affine_into_conv + st.hard_swish + st.affine_depthwise > 0;
  std::string graph_out = changed ? r.graph_bytes() : std::string(graph->bytes);

  int64_t onnx_opset = 0;
  bool has_ms = false;
  for (const auto& f : m->fields) {
    if (auto v = opset_version(f, "")) onnx_opset = *v;
    if (opset_version(f, "com.microsoft")) has_ms = true;
  }
  bool quantised = false;
  if (int8 && onnx_opset > 0) {
    Rewriter q;
    if (q.load(graph_out) && (onnx_opset >= 10 || q.slices_to_opset_10())) {
      auto [convs, swishes] = q.quantize(*int8);
      if (convs + swishes > 0) {
        st.int8_convs = convs;
        st.int8_hard_swish = swishes;
        graph_out = q.graph_bytes();
        quantised = changed = true;
      }
    }
  }
  if (stats) *stats = st;
  if (!changed) return std::nullopt;
  std::string out;
  out.reserve(model.size());
  for (const auto& f : m->fields) {
    if (&f == graph) {
      put_bytes(out, model_f::graph, graph_out);
    } else if (auto v = opset_version(f, ""); quantised && v && *v < 10) {
      put_bytes(out, model_f::opset_import, opset_bytes("", 10));
    } else {
      out.append(f.whole);
    }
  }
  if (quantised && !has_ms) put_bytes(out, model_f::opset_import, opset_bytes("com.microsoft", 1));
  return out;
}

std::optional<std::string> expose_float_outputs(std::string_view model) {
  auto m = load_model(model);
  if (!m) return std::nullopt;
  m->rewriter.expose();
  std::string out;
  for (const auto& f : m->fields) {
    if (&f == &m->fields[m->graph])
      put_bytes(out, model_f::graph, m->rewriter.graph_bytes());
    else
      out.append(f.whole);
  }
  return out;
}

}  // namespace dr::runtime
