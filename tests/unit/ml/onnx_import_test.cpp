// ImportOnnx: ONNX ai.onnx.ml tree ensembles built in C++ (no files, no
// network) must score in our InferenceEngine exactly as the ONNX operator
// semantics say, computed by hand below: <= boundaries, missing values,
// LOGISTIC / SOFTMAX links, base values. Broken models give precise errors.
#include <cmath>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include "ml/inference.h"
#include "ml/onnx_import.h"

namespace threatd::ml {
namespace {

const float kNaN = std::numeric_limits<float>::quiet_NaN();
float Above(float v) { return std::nextafter(v, std::numeric_limits<float>::infinity()); }
float Below(float v) { return std::nextafter(v, -std::numeric_limits<float>::infinity()); }
double Sigmoid(double m) { return 1.0 / (1.0 + std::exp(-m)); }
std::vector<double> Softmax(std::vector<double> s) {
  double sum = 0;
  for (double& v : s) sum += (v = std::exp(v));
  for (double& v : s) v /= sum;
  return s;
}

// Builds a ModelProto with one tree ensemble node, attribute by attribute.
class EnsembleBuilder {
 public:
  explicit EnsembleBuilder(const std::string& op_type, int64_t num_features = 2) {
    auto* graph = model_.mutable_graph();
    auto* input = graph->add_input();
    input->set_name("X");
    auto* shape = input->mutable_type()->mutable_tensor_type()->mutable_shape();
    shape->add_dim()->set_dim_param("N");
    shape->add_dim()->set_dim_value(num_features);
    auto* node = graph->add_node();
    node->set_op_type(op_type);
    node->set_domain("ai.onnx.ml");
    node->add_input("X");
    node->add_output("label");
    weight_prefix_ = op_type == "TreeEnsembleClassifier" ? "class_" : "target_";
  }
  EnsembleBuilder& Branch(int64_t tree, int64_t node, const std::string& mode, int64_t feature, float value,
                          int64_t true_id, int64_t false_id, int64_t nan_true = 0) {
    Push(tree, node, mode, feature, value, true_id, false_id, nan_true);
    return *this;
  }
  EnsembleBuilder& Leaf(int64_t tree, int64_t node) {
    Push(tree, node, "LEAF", 0, 0.0f, 0, 0, 0);
    return *this;
  }
  EnsembleBuilder& Weight(int64_t tree, int64_t node, int64_t id, float w) {
    ints_[weight_prefix_ + "treeids"].push_back(tree);
    ints_[weight_prefix_ + "nodeids"].push_back(node);
    ints_[weight_prefix_ + "ids"].push_back(id);
    floats_[weight_prefix_ + "weights"].push_back(w);
    return *this;
  }
  EnsembleBuilder& Ints(const std::string& name, std::vector<int64_t> v) { ints_[name] = std::move(v); return *this; }
  EnsembleBuilder& Floats(const std::string& name, std::vector<float> v) { floats_[name] = std::move(v); return *this; }
  EnsembleBuilder& Strings(const std::string& name, std::vector<std::string> v) { strings_[name] = std::move(v); return *this; }
  EnsembleBuilder& String(const std::string& name, const std::string& v) { string_[name] = v; return *this; }
  EnsembleBuilder& AddNode(const std::string& op_type) {
    model_.mutable_graph()->add_node()->set_op_type(op_type);
    return *this;
  }

  std::string Bytes() {
    onnx::ModelProto model = model_;
    auto* node = model.mutable_graph()->mutable_node(0);
    for (const auto& [name, v] : ints_) {
      auto* a = node->add_attribute();
      a->set_name(name);
      a->set_type(onnx::AttributeProto::INTS);
      for (auto x : v) a->add_ints(x);
    }
    for (const auto& [name, v] : floats_) {
      auto* a = node->add_attribute();
      a->set_name(name);
      a->set_type(onnx::AttributeProto::FLOATS);
      for (auto x : v) a->add_floats(x);
    }
    for (const auto& [name, v] : strings_) {
      auto* a = node->add_attribute();
      a->set_name(name);
      a->set_type(onnx::AttributeProto::STRINGS);
      for (const auto& x : v) a->add_strings(x);
    }
    for (const auto& [name, v] : string_) {
      auto* a = node->add_attribute();
      a->set_name(name);
      a->set_type(onnx::AttributeProto::STRING);
      a->set_s(v);
    }
    return model.SerializeAsString();
  }

 private:
  void Push(int64_t tree, int64_t node, const std::string& mode, int64_t feature, float value, int64_t t, int64_t f,
            int64_t nan_true) {
    ints_["nodes_treeids"].push_back(tree);
    ints_["nodes_nodeids"].push_back(node);
    ints_["nodes_featureids"].push_back(feature);
    ints_["nodes_truenodeids"].push_back(t);
    ints_["nodes_falsenodeids"].push_back(f);
    ints_["nodes_missing_value_tracks_true"].push_back(nan_true);
    floats_["nodes_values"].push_back(value);
    strings_["nodes_modes"].push_back(mode);
  }

  onnx::ModelProto model_;
  std::string weight_prefix_;
  std::map<std::string, std::vector<int64_t>> ints_;
  std::map<std::string, std::vector<float>> floats_;
  std::map<std::string, std::vector<std::string>> strings_;
  std::map<std::string, std::string> string_;
};

ImportProfile Profile(std::vector<std::string> classes = {}) {
  ImportProfile p;
  p.features = {{"Flow Duration", {}}, {"Total Fwd Packets", {}}};
  p.classes = std::move(classes);
  p.created_at = "2026-01-01T00:00:00.000Z";
  p.version = "onnx-test";
  return p;
}

// Probabilities the engine gives for one row.
std::vector<float> Score(const ModelBundle& bundle, std::vector<float> row) {
  auto engine = InferenceEngine::Create(bundle);
  EXPECT_TRUE(engine.ok()) << engine.status().ToString();
  if (!engine.ok()) return {};
  std::vector<float> out(engine->NumOutputs());
  engine->PredictProba(row.data(), 1, out.data());
  return out;
}

// 3 classes, 2 trees, SOFTMAX, base values per class. Tree 0: f0 <= 1 (NaN
// -> true); tree 1: f1 < 0.5 (NaN -> false), its nodes listed leaves first.
EnsembleBuilder MulticlassModel() {
  EnsembleBuilder m("TreeEnsembleClassifier");
  m.Branch(0, 0, "BRANCH_LEQ", 0, 1.0f, 1, 2, /*nan_true=*/1).Leaf(0, 1).Leaf(0, 2);
  m.Leaf(1, 1).Leaf(1, 2).Branch(1, 0, "BRANCH_LT", 1, 0.5f, 2, 1, /*nan_true=*/0);
  m.Weight(0, 1, 0, 1.0f).Weight(0, 1, 1, -0.5f).Weight(0, 2, 2, 2.0f);
  m.Weight(1, 2, 1, 1.0f).Weight(1, 1, 0, 0.25f).Weight(1, 1, 2, 0.5f);
  m.Floats("base_values", {0.1f, 0.2f, 0.3f});
  m.Strings("classlabels_strings", {"BENIGN", "DDoS", "PortScan"});
  m.String("post_transform", "SOFTMAX");
  return m;
}

void ExpectProba(const std::vector<float>& got, const std::vector<double>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-6) << "column " << i;
}

TEST(OnnxImportTest, MulticlassSoftmaxMatchesOnnxSemantics) {
  auto bundle = ImportOnnx(MulticlassModel().Bytes(), Profile());
  ASSERT_TRUE(bundle.ok()) << bundle.status().ToString();
  EXPECT_EQ(bundle->objective, Objective::kMultiSoftprob);
  EXPECT_EQ(bundle->classes, (std::vector<std::string>{"BENIGN", "DDoS", "PortScan"}));
  EXPECT_TRUE(ValidateBundle(*bundle).ok());
  // f0 == 1 is on the <= boundary: true branch. f1 = 0 < 0.5: true branch.
  ExpectProba(Score(*bundle, {1.0f, 0.0f}), Softmax({0.1 + 1.0, 0.2 - 0.5 + 1.0, 0.3}));
  // Just above the boundary: false branches of both trees.
  ExpectProba(Score(*bundle, {Above(1.0f), 0.5f}), Softmax({0.1 + 0.25, 0.2, 0.3 + 2.0 + 0.5}));
  // Missing: tree 0 tracks true, tree 1 goes false.
  ExpectProba(Score(*bundle, {kNaN, kNaN}), Softmax({0.1 + 1.0 + 0.25, 0.2 - 0.5, 0.3 + 0.5}));
}

TEST(OnnxImportTest, BinaryLogisticXgboostStyle) {
  // One scored class (class_ids all 0, as onnxmltools writes XGBoost), GTE/GT splits.
  EnsembleBuilder m("TreeEnsembleClassifier");
  m.Branch(0, 0, "BRANCH_GTE", 0, 3.0f, 1, 2, /*nan_true=*/1).Leaf(0, 1).Leaf(0, 2);
  m.Branch(1, 0, "BRANCH_GT", 1, 2.0f, 1, 2, /*nan_true=*/0).Leaf(1, 1).Leaf(1, 2);
  m.Weight(0, 1, 0, 0.8f).Weight(0, 2, 0, -0.4f).Weight(1, 1, 0, 0.3f).Weight(1, 2, 0, -0.1f);
  m.Floats("base_values", {-0.2f}).Ints("classlabels_int64s", {0, 1}).String("post_transform", "LOGISTIC");
  auto bundle = ImportOnnx(m.Bytes(), Profile());
  ASSERT_TRUE(bundle.ok()) << bundle.status().ToString();
  EXPECT_EQ(bundle->objective, Objective::kBinaryLogistic);
  EXPECT_EQ(bundle->classes, (std::vector<std::string>{"0", "1"}));
  const double p1 = Sigmoid(-0.2 + 0.8 - 0.1);  // 3 >= 3 true; 2 > 2 false
  ExpectProba(Score(*bundle, {3.0f, 2.0f}), {1 - p1, p1});
  const double p2 = Sigmoid(-0.2 - 0.4 + 0.3);  // just below 3: false; just above 2: true
  ExpectProba(Score(*bundle, {Below(3.0f), Above(2.0f)}), {1 - p2, p2});
  ExpectProba(Score(*bundle, {kNaN, kNaN}), {1 - p1, p1});  // NaN: true, false
}

TEST(OnnxImportTest, BinarySoftmaxOverTwoClasses) {
  EnsembleBuilder m("TreeEnsembleClassifier");
  m.Branch(0, 0, "BRANCH_LT", 0, 0.0f, 1, 2).Leaf(0, 1).Leaf(0, 2);
  m.Weight(0, 1, 0, 0.2f).Weight(0, 1, 1, 0.6f).Weight(0, 2, 1, -0.3f);
  m.Floats("base_values", {0.1f, -0.1f}).Strings("classlabels_strings", {"BENIGN", "ATTACK"});
  m.String("post_transform", "SOFTMAX");
  auto bundle = ImportOnnx(m.Bytes(), Profile({"benign", "attack"}));
  ASSERT_TRUE(bundle.ok()) << bundle.status().ToString();
  EXPECT_EQ(bundle->classes, (std::vector<std::string>{"benign", "attack"}));
  const auto left = Softmax({0.1 + 0.2, -0.1 + 0.6});
  ExpectProba(Score(*bundle, {-1.0f, 0.0f}), left);
  ExpectProba(Score(*bundle, {0.0f, 0.0f}), Softmax({0.1, -0.1 - 0.3}));
  ExpectProba(Score(*bundle, {kNaN, 0.0f}), Softmax({0.1, -0.1 - 0.3}));  // NaN: false branch
}

TEST(OnnxImportTest, RegressorWithLogisticIsADetector) {
  EnsembleBuilder m("TreeEnsembleRegressor");
  m.Branch(0, 0, "BRANCH_LEQ", 0, 10.0f, 1, 2, /*nan_true=*/1);
  m.Branch(0, 1, "BRANCH_LEQ", 1, -1.0f, 3, 4, /*nan_true=*/0);
  m.Leaf(0, 2).Leaf(0, 3).Leaf(0, 4);
  m.Weight(0, 2, 0, 0.7f).Weight(0, 3, 0, -1.2f).Weight(0, 4, 0, 0.4f).Weight(0, 4, 0, 0.1f);
  m.Floats("base_values", {0.25f}).String("post_transform", "LOGISTIC");
  auto bundle = ImportOnnx(m.Bytes(), Profile({"benign", "attack"}));
  ASSERT_TRUE(bundle.ok()) << bundle.status().ToString();
  auto p = [](double margin) { return std::vector<double>{1 - Sigmoid(margin), Sigmoid(margin)}; };
  ExpectProba(Score(*bundle, {10.0f, -1.0f}), p(0.25 - 1.2));
  ExpectProba(Score(*bundle, {10.0f, Above(-1.0f)}), p(0.25 + 0.5));
  ExpectProba(Score(*bundle, {Above(10.0f), 0.0f}), p(0.25 + 0.7));
  ExpectProba(Score(*bundle, {kNaN, kNaN}), p(0.25 + 0.5));
  // The regressor has no labels of its own.
  auto unlabeled = ImportOnnx(m.Bytes(), Profile());
  ASSERT_FALSE(unlabeled.ok());
  EXPECT_NE(unlabeled.status().message().find("no class labels"), std::string::npos);
}

TEST(OnnxImportTest, ZipMapAndCastAreIgnoredOtherOperatorsRejected) {
  EXPECT_TRUE(ImportOnnx(MulticlassModel().AddNode("ZipMap").AddNode("Cast").Bytes(), Profile()).ok());
  auto r = ImportOnnx(MulticlassModel().AddNode("Scaler").Bytes(), Profile());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("'Scaler'"), std::string::npos) << r.status().message();
}

// Each corruption must fail with a message naming the problem.
void ExpectRejected(EnsembleBuilder m, const std::string& needle, ImportProfile profile = Profile()) {
  auto r = ImportOnnx(m.Bytes(), profile);
  ASSERT_FALSE(r.ok()) << "expected an error containing: " << needle;
  EXPECT_NE(r.status().message().find(needle), std::string::npos) << r.status().message();
}

TEST(OnnxImportTest, CorruptAttributesGivePreciseErrors) {
  ExpectRejected(MulticlassModel().Strings("nodes_modes", {"BRANCH_EQ", "LEAF", "LEAF", "LEAF", "LEAF", "BRANCH_LT"}),
                 "tree 0 node 0: mode BRANCH_EQ cannot be represented");
  ExpectRejected(MulticlassModel().Strings("nodes_modes", {"BRANCH_XX", "LEAF", "LEAF", "LEAF", "LEAF", "BRANCH_LT"}),
                 "unknown mode 'BRANCH_XX'");
  ExpectRejected(MulticlassModel().String("post_transform", "NONE"), "post_transform NONE is not supported");
  ExpectRejected(MulticlassModel().String("post_transform", "PROBIT"), "post_transform PROBIT is not supported");
  ExpectRejected(MulticlassModel().Floats("nodes_values", {1.0f}), "'nodes_values' has 1 entries");
  ExpectRejected(MulticlassModel().Ints("nodes_featureids", {0, 0, 0, 0, 0, 7}), "tree 1 node 0: feature id 7 outside");
  ExpectRejected(MulticlassModel().Ints("nodes_truenodeids", {9, 0, 0, 0, 0, 2}), "tree 0 node 0: child node 9 does not exist");
  ExpectRejected(MulticlassModel().Ints("nodes_truenodeids", {2, 0, 0, 0, 0, 2}), "node 2 has more than one parent");
  ExpectRejected(MulticlassModel().Ints("nodes_falsenodeids", {0, 0, 0, 0, 0, 1}), "tree 0: 2 nodes are not reachable from the root");
  ExpectRejected(MulticlassModel().Ints("class_ids", {0, 1, 5, 1, 0, 2}), "weight 2 names output 5, the model has 3");
  ExpectRejected(MulticlassModel().Ints("class_nodeids", {1, 1, 2, 2, 1, 0}), "tree 1 node 0 carries weights but is not a LEAF");
  ExpectRejected(MulticlassModel().Ints("class_nodeids", {1, 1, 2, 2, 1, 8}), "1 leaf weights name a (tree, node) that does not exist");
  ExpectRejected(MulticlassModel().Floats("nodes_values", {kNaN, 0, 0, 0, 0, 0.5f}), "threshold is NaN or infinite");
  ExpectRejected(MulticlassModel().Floats("nodes_values", {std::numeric_limits<float>::max(), 0, 0, 0, 0, 0.5f}),
                 "cannot be represented as x < threshold");
  ExpectRejected(MulticlassModel().Floats("base_values", {1.0f}), "base_values has 1 entries for 3 classes");
  ExpectRejected(MulticlassModel().Floats("nodes_values_as_tensor", {}), "'nodes_values_as_tensor' (double precision)");
  ExpectRejected(MulticlassModel(), "the profile lists 2 classes, the ONNX classifier has 3", Profile({"a", "b"}));
  ImportProfile three = Profile();
  three.features.push_back({"Total Backward Packets", {}});
  ExpectRejected(MulticlassModel(), "has 2 features, the profile lists 3", three);
}

TEST(OnnxImportTest, StructureAndGraphErrors) {
  // Every node has a parent: a cycle and no root.
  EnsembleBuilder cycle("TreeEnsembleClassifier");
  cycle.Branch(0, 0, "BRANCH_LEQ", 0, 1.0f, 1, 2).Branch(0, 1, "BRANCH_LEQ", 0, 1.0f, 0, 2).Leaf(0, 2);
  cycle.Ints("classlabels_int64s", {0, 1}).String("post_transform", "LOGISTIC").Weight(0, 2, 1, 1.0f);
  auto r = ImportOnnx(cycle.Bytes(), Profile());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("tree 0"), std::string::npos) << r.status().message();

  ExpectRejected(MulticlassModel().Ints("nodes_nodeids", {0, 1, 1, 1, 2, 0}), "tree 0 lists node 1 twice");
  EnsembleBuilder regressor("TreeEnsembleRegressor");
  regressor.Branch(0, 0, "BRANCH_LEQ", 0, 1.0f, 1, 2).Leaf(0, 1).Leaf(0, 2).Weight(0, 1, 0, 1.0f);
  ExpectRejected(regressor, "post_transform NONE is not supported", Profile({"benign", "attack"}));
  regressor.String("post_transform", "LOGISTIC").String("aggregate_function", "AVERAGE");
  ExpectRejected(regressor, "aggregate_function AVERAGE is not supported", Profile({"benign", "attack"}));

  auto garbage = ImportOnnx("this is not protobuf \xff\xff\xff", Profile());
  ASSERT_FALSE(garbage.ok());
  EXPECT_NE(garbage.status().message().find("not an ONNX model"), std::string::npos) << garbage.status().message();
  onnx::ModelProto empty;
  empty.mutable_graph()->add_node()->set_op_type("Identity");
  auto none = ImportOnnx(empty.SerializeAsString(), Profile());
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("holds no ai.onnx.ml"), std::string::npos) << none.status().message();
}

// Fuzz crasher (tests/fuzz/corpus/onnx/crash-invalid-utf8-label): protobuf strings are
// bytes, and a non-UTF-8 label made the bundle's canonical JSON dump throw.
TEST(OnnxImportTest, InvalidUtf8ClassLabelIsRejectedNotThrown) {
  ExpectRejected(MulticlassModel().Strings("classlabels_strings", {"BENIGN", "D\x99oS", "PortScan"}),
                 "classlabels_strings[1] is not valid UTF-8");
  ExpectRejected(MulticlassModel().Strings("classlabels_strings", {"BENIGN", "DDoS", "Port\xE2\x80"}),
                 "classlabels_strings[2] is not valid UTF-8");
  ImportProfile bad = Profile({"BENIGN", "\xED\xA0\x80", "PortScan"});  // a UTF-16 surrogate: caught by ValidateBundle
  auto r = ImportOnnx(MulticlassModel().Bytes(), bad);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("class label 1 is not valid UTF-8"), std::string::npos) << r.status().message();
}

}  // namespace
}  // namespace threatd::ml
