// Writes small ONNX models for tests, protobuf bytes encoded by hand (no onnx package is needed): enough of
// ModelProto for graphs of a few nodes with tensor constants and attributes.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace dr::test::onnx {

enum DataType : int32_t { kFloat = 1, kInt32 = 6, kInt64 = 7 };

struct Tensor {
  std::string name;
  DataType type = kFloat;
  std::vector<int64_t> dims;
  std::string raw;  // little-endian values
};
Tensor floats(const std::string& name, std::vector<int64_t> dims, const std::vector<float>& values);
Tensor int64s(const std::string& name, std::vector<int64_t> dims, const std::vector<int64_t>& values);

struct Attribute {
  enum Kind { Float = 1, Int = 2, Tensor_ = 4, Ints = 7 } kind = Int;
  std::string name;
  int64_t i = 0;
  float f = 0;
  std::vector<int64_t> ints;
  Tensor t;
};
Attribute attr_float(const std::string& name, float v);
Attribute attr_int(const std::string& name, int64_t v);
Attribute attr_ints(const std::string& name, std::vector<int64_t> v);
Attribute attr_tensor(const std::string& name, Tensor t);

struct Node {
  std::string op;
  std::vector<std::string> inputs, outputs;
  std::vector<Attribute> attributes;
};

// A graph input or output: dims < 0 are dynamic (named "d0", "d1", ... by position).
struct Value {
  std::string name;
  DataType type = kFloat;
  std::vector<int64_t> dims;
};

struct Graph {
  std::vector<Node> nodes;
  std::vector<Tensor> initializers;
  std::vector<Value> inputs, outputs;
  // The serialized ModelProto (IR version 8, default opset `opset`).
  std::string serialize(int64_t opset = 13) const;
  void save(const std::string& path, int64_t opset = 13) const;
};

}  // namespace dr::test::onnx
