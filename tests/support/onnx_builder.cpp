#include "support/onnx_builder.h"

#include <cstring>
#include <fstream>
#include <stdexcept>

#include "runtime/wire.h"

namespace dr::test::onnx {
namespace {

// Protobuf wire format from the runtime's own writer (runtime/wire.h).
void int_field(std::string& out, int field, int64_t v) {
  runtime::wire::put_varint_field(out, uint32_t(field), uint64_t(v));
}
void bytes_field(std::string& out, int field, const std::string& b) {
  runtime::wire::put_bytes(out, uint32_t(field), b);
}

std::string tensor_msg(const Tensor& t) {
  std::string m;
  for (int64_t d : t.dims) int_field(m, 1, d);  // dims
  int_field(m, 2, t.type);                      // data_type
  bytes_field(m, 8, t.name);                    // name
  bytes_field(m, 9, t.raw);                     // raw_data
  return m;
}

std::string attribute_msg(const Attribute& a) {
  std::string m;
  bytes_field(m, 1, a.name);
  switch (a.kind) {
    case Attribute::Float:
      runtime::wire::put_float(m, 2, a.f);
      break;
    case Attribute::Int:
      int_field(m, 3, a.i);
      break;
    case Attribute::Tensor_:
      bytes_field(m, 5, tensor_msg(a.t));
      break;
    case Attribute::Ints:
      for (int64_t v : a.ints) int_field(m, 8, v);
      break;
  }
  int_field(m, 20, a.kind);  // type
  return m;
}

std::string node_msg(const Node& n, size_t index) {
  std::string m;
  for (auto& i : n.inputs) bytes_field(m, 1, i);
  for (auto& o : n.outputs) bytes_field(m, 2, o);
  bytes_field(m, 3, n.op + "_" + std::to_string(index));
  bytes_field(m, 4, n.op);
  for (auto& a : n.attributes) bytes_field(m, 5, attribute_msg(a));
  return m;
}

std::string value_msg(const Value& v) {
  std::string shape;
  for (size_t k = 0; k < v.dims.size(); ++k) {
    std::string dim;
    if (v.dims[k] >= 0)
      int_field(dim, 1, v.dims[k]);  // dim_value
    else
      bytes_field(dim, 2, "d" + std::to_string(k));  // dim_param
    bytes_field(shape, 1, dim);
  }
  std::string tensor_type;
  int_field(tensor_type, 1, v.type);  // elem_type
  bytes_field(tensor_type, 2, shape);
  std::string type;
  bytes_field(type, 1, tensor_type);  // TypeProto.tensor_type
  std::string m;
  bytes_field(m, 1, v.name);
  bytes_field(m, 2, type);
  return m;
}

template <class T>
std::string raw_of(const std::vector<T>& v) {
  std::string s(v.size() * sizeof(T), '\0');
  if (!v.empty()) std::memcpy(s.data(), v.data(), s.size());
  return s;
}

}  // namespace

Tensor floats(const std::string& name, std::vector<int64_t> dims, const std::vector<float>& values) {
  return {name, kFloat, std::move(dims), raw_of(values)};
}
Tensor int64s(const std::string& name, std::vector<int64_t> dims, const std::vector<int64_t>& values) {
  return {name, kInt64, std::move(dims), raw_of(values)};
}
Attribute attr_float(const std::string& name, float v) {
  Attribute a;
  a.kind = Attribute::Float;
  a.name = name;
  a.f = v;
  return a;
}
Attribute attr_int(const std::string& name, int64_t v) {
  Attribute a;
  a.kind = Attribute::Int;
  a.name = name;
  a.i = v;
  return a;
}
Attribute attr_ints(const std::string& name, std::vector<int64_t> v) {
  Attribute a;
  a.kind = Attribute::Ints;
  a.name = name;
  a.ints = std::move(v);
  return a;
}
Attribute attr_tensor(const std::string& name, Tensor t) {
  Attribute a;
  a.kind = Attribute::Tensor_;
  a.name = name;
  a.t = std::move(t);
  return a;
}

std::string Graph::serialize(int64_t opset) const {
  std::string g;
  for (size_t i = 0; i < nodes.size(); ++i) bytes_field(g, 1, node_msg(nodes[i], i));
  bytes_field(g, 2, "test_graph");
  for (auto& t : initializers) bytes_field(g, 5, tensor_msg(t));
  for (auto& v : inputs) bytes_field(g, 11, value_msg(v));
  for (auto& v : outputs) bytes_field(g, 12, value_msg(v));
  std::string opset_msg;
  bytes_field(opset_msg, 1, "");
  int_field(opset_msg, 2, opset);
  std::string m;
  int_field(m, 1, 8);  // ir_version
  bytes_field(m, 2, "darkroom-tests");
  bytes_field(m, 7, g);
  bytes_field(m, 8, opset_msg);
  return m;
}

void Graph::save(const std::string& path, int64_t opset) const {
  std::ofstream out(path, std::ios::binary);
  std::string bytes = serialize(opset);
  out.write(bytes.data(), std::streamsize(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + path);
}

}  // namespace dr::test::onnx
