// The people clustering core: synthetic embeddings for the rules, real faces for the result.
#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

#include <random>

#include "analyzers/faces/faces_fixture.h"
#include "search/people.h"

namespace dr::search {
namespace {

// A unit vector near `centre` (cosine about 1 - spread^2 * dim / 2 from it).
std::vector<float> near(const std::vector<float>& centre, float spread, std::mt19937& rng) {
  std::normal_distribution<float> n(0, spread);
  std::vector<float> v = centre;
  double norm = 0;
  for (auto& x : v) x += n(rng), norm += double(x) * x;
  for (auto& x : v) x = float(x / std::sqrt(norm));
  return v;
}

std::vector<float> random_unit(int dim, std::mt19937& rng) { return near(std::vector<float>(dim, 0.f), 1.f, rng); }

// Three well-separated people, four faces each; ids 10.., 20.., 30...
ClusterInput three_people(std::mt19937& rng) {
  ClusterInput in;
  for (int p = 1; p <= 3; p++) {
    auto c = random_unit(128, rng);
    for (int k = 0; k < 4; k++) in.faces.push_back({p * 10 + k, near(c, 0.04f, rng), true});
  }
  return in;
}

std::set<int64_t> faces_of(const ClusterResult& r, int64_t person) {
  std::set<int64_t> s;
  for (auto& [f, p] : r.person_of)
    if (p == person) s.insert(f);
  return s;
}

TEST(People, EachPersonsFacesTogether) {
  std::mt19937 rng(2);
  auto in = three_people(rng);
  auto r = PeopleClusterer().update(in);
  EXPECT_EQ(r.new_persons.size(), 3u);
  for (int p = 1; p <= 3; p++) {
    int64_t person = r.person_of.at(p * 10);
    EXPECT_NE(person, 0);
    EXPECT_EQ(faces_of(r, person), (std::set<int64_t>{p * 10, p * 10 + 1, p * 10 + 2, p * 10 + 3}));
  }
}

TEST(People, IncrementalJoinAndSeed) {
  std::mt19937 rng(3);
  auto in = three_people(rng);
  PeopleClusterer c;
  auto first = c.update(in);
  for (auto& f : in.faces) f.person = first.person_of.at(f.id);
  in.next_person_id = first.next_person_id;
  // A new face of person 2 (low quality: it may join, never seed), a lone stranger, and two faces of a new person.
  auto person2 = in.faces[4].embedding;
  in.faces.push_back({100, near(person2, 0.04f, rng), false});
  in.faces.push_back({101, random_unit(128, rng), true});
  auto stranger = random_unit(128, rng);
  in.faces.push_back({102, near(stranger, 0.04f, rng), true});
  in.faces.push_back({103, near(stranger, 0.04f, rng), true});
  auto r = c.update(in);
  EXPECT_EQ(r.person_of.at(100), first.person_of.at(20));
  EXPECT_EQ(r.person_of.at(101), 0);  // alone: not a person yet
  EXPECT_NE(r.person_of.at(102), 0);
  EXPECT_EQ(r.person_of.at(102), r.person_of.at(103));
  EXPECT_EQ(r.new_persons, std::vector<int64_t>{r.person_of.at(102)});
  // Nothing that was assigned moved.
  for (auto& f : in.faces) {
    if (f.person) {
      EXPECT_EQ(r.person_of.at(f.id), f.person);
    }
  }
}

TEST(People, LowQualityFacesNeverSeed) {
  std::mt19937 rng(4);
  auto c = random_unit(128, rng);
  ClusterInput in;
  for (int k = 0; k < 5; k++) in.faces.push_back({k + 1, near(c, 0.04f, rng), false});
  auto r = PeopleClusterer().update(in);
  EXPECT_TRUE(r.new_persons.empty());
  // One good face among them is not enough either (min_faces good ones are needed); two are.
  in.faces[0].can_seed = true;
  EXPECT_TRUE(PeopleClusterer().update(in).new_persons.empty());
  in.faces[1].can_seed = true;
  r = PeopleClusterer().update(in);
  ASSERT_EQ(r.new_persons.size(), 1u);
  EXPECT_EQ(faces_of(r, r.new_persons[0]).size(), 5u);  // the others joined it afterwards
}

TEST(People, OneLookAlikeFaceIsNotEnough) {
  // The new face is within reach of one of the person's faces but not of the others: the mean over the nearest
  // check_faces decides.
  ClusterInput in;
  auto basis = [](int i) {
    std::vector<float> v(8, 0.f);
    v[i] = 1;
    return v;
  };
  auto mix = [](std::vector<float> a, const std::vector<float>& b, float t) {
    double n = 0;
    for (size_t i = 0; i < a.size(); i++) a[i] = (1 - t) * a[i] + t * b[i], n += double(a[i]) * a[i];
    for (auto& x : a) x = float(x / std::sqrt(n));
    return a;
  };
  in.faces.push_back({1, basis(0), true, 5});
  in.faces.push_back({2, basis(0), true, 5});
  in.faces.push_back({3, mix(basis(0), basis(1), 0.5f), true, 5});  // an outlier already in the person
  in.faces.push_back({4, mix(basis(0), basis(1), 0.85f), false});   // close to face 3 only
  in.next_person_id = 6;
  auto r = PeopleClusterer().update(in);
  EXPECT_EQ(r.person_of.at(4), 0);
  PeopleOptions single;
  single.check_faces = 1;
  EXPECT_EQ(PeopleClusterer(single).update(in).person_of.at(4), 5);
}

TEST(People, RejectionsHoldAcrossUpdatesAndReclusters) {
  std::mt19937 rng(5);
  auto in = three_people(rng);
  PeopleClusterer c;
  auto r = c.update(in);
  for (auto& f : in.faces) f.person = r.person_of.at(f.id);
  in.next_person_id = r.next_person_id;
  int64_t p1 = r.person_of.at(10);
  // "Face 11 is not this person": it leaves, and nothing puts it back.
  in.rejected.insert({11, p1});
  in.faces[1].person = 0;
  EXPECT_EQ(c.update(in).person_of.at(11), 0);
  auto full = c.recluster(in);
  EXPECT_EQ(full.person_of.at(11), 0);
  EXPECT_EQ(full.person_of.at(10), p1);  // the group kept its id
}

TEST(People, ReclusterKeepsIdsUserPlacementsAndSplitsNothingItShouldNot) {
  std::mt19937 rng(6);
  auto in = three_people(rng);
  PeopleClusterer c;
  auto r = c.update(in);
  for (auto& f : in.faces) f.person = r.person_of.at(f.id);
  in.next_person_id = r.next_person_id;
  int64_t p1 = r.person_of.at(10), p2 = r.person_of.at(20);
  // The user moved face 30 (person 3) to person 1 by hand, and merged... that placement is pinned.
  in.faces[8].person = p1;
  in.faces[8].pinned = true;
  auto full = c.recluster(in);
  EXPECT_EQ(full.person_of.at(30), p1);
  EXPECT_EQ(full.person_of.at(20), p2);
  EXPECT_EQ(full.person_of.at(31), r.person_of.at(31));
  EXPECT_TRUE(full.new_persons.empty());
  // Recluster of an unchanged library changes nothing.
  for (auto& f : in.faces) f.person = full.person_of.at(f.id);
  EXPECT_EQ(c.recluster(in).person_of, full.person_of);
}

TEST(People, EmbeddingsOfDifferentSizesAreRefused) {
  ClusterInput in;
  in.faces.push_back({1, std::vector<float>(128, 0.1f), true});
  in.faces.push_back({2, std::vector<float>(512, 0.1f), true});
  EXPECT_THROW(PeopleClusterer().update(in), std::invalid_argument);
  EXPECT_TRUE(PeopleClusterer().update(ClusterInput{}).person_of.empty());
}

// Real faces: the two stereo views, two video frames, and single photos of three other people, each also mirrored and
// rescaled (as a library holds copies of a photo). Each person's faces end in one person, and no person mixes two.
TEST(People, RealFacesClusterByPerson) {
  using analyzers::faces::testing::load_rgb;
  using analyzers::faces::testing::Models;
  namespace t = analyzers::faces::testing;
  auto a = Models::get().analyzer();
  struct Photo {
    std::string who, path;
  };
  std::vector<Photo> photos = {{"astronaut", t::skimage("astronaut.png")}, {"cameraman", t::skimage("camera.png")},
                               {"messi", t::opencv_doc("messi5.jpg")},     {"stereo", t::opencv_doc("left06.jpg")},
                               {"stereo", t::opencv_doc("right06.jpg")},   {"player", t::opencv_doc("basketball1.png")},
                               {"player", t::opencv_doc("basketball2.png")}};
  ClusterInput in;
  std::map<int64_t, std::string> who;
  SeedQuality seed;
  for (auto& p : photos) {
    cv::Mat img = load_rgb(p.path), flipped, bigger;
    cv::flip(img, flipped, 1);
    cv::resize(img, bigger, {}, 1.5, 1.5, cv::INTER_CUBIC);
    for (const cv::Mat* m : {&img, &flipped, &bigger}) {
      auto faces = a.analyze(*m, 1.0, true);
      ASSERT_FALSE(faces.empty()) << p.path;
      auto& f = faces[0];  // the best face of the photo is the one named
      int64_t id = int64_t(in.faces.size()) + 1;
      in.faces.push_back({id, f.embedding, seed.ok(f.quality.size, f.quality.blur)});
      who[id] = p.who;
    }
  }
  auto r = PeopleClusterer().update(in);
  std::map<std::string, std::set<int64_t>> persons_of;
  std::map<int64_t, std::set<std::string>> people_in;
  for (auto& [face, person] : r.person_of) {
    persons_of[who[face]].insert(person);
    if (person) people_in[person].insert(who[face]);
  }
  for (auto& [name, persons] : persons_of) {
    EXPECT_EQ(persons.size(), 1u) << name << " is split";
    EXPECT_FALSE(persons.count(0)) << name << " has faces left out";
  }
  for (auto& [person, names] : people_in) EXPECT_EQ(names.size(), 1u) << "person " << person << " mixes people";
  EXPECT_EQ(r.new_persons.size(), 5u);
}

}  // namespace
}  // namespace dr::search
