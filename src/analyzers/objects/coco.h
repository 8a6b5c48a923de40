// The COCO object classes: the 80 that YOLOX-style detectors predict (in their output order) and the 91-id
// category numbering that DETR-style detectors predict (ids with no class in the 2017 release are gaps).
#pragma once
#include <string_view>
#include <vector>

namespace dr::analyzers::objects {

// The 80 class names in the order of the detectors' class scores ("person", "bicycle", ..., "toothbrush").
const std::vector<std::string_view>& coco80_names();

// The name of COCO category id `id` (1..90, as DETR's class index), or "" for an id without a class
// (0, 12, 26, 29, 30, 45, 66, 68, 69, 71, 83 and anything out of range).
std::string_view coco91_name(int id);

}  // namespace dr::analyzers::objects
