// Reading order of detected lines: top to bottom, left to right, with boxes that sit on one baseline (one line of
// text cut into several boxes) kept together as one row.
#pragma once
#include <string>
#include <vector>

#include "analyzers/text/detector.h"

namespace dr::analyzers::text {

// Rows of box indices, top row first, each row left to right. Two boxes share a row when their centres are within
// half the smaller box's height of each other, vertically. On a page turned by a degree or more (the median
// direction of the boxes' top edges), "vertically" and "left" are taken on the page made level.
std::vector<std::vector<size_t>> reading_rows(const std::vector<Quad>& boxes);

// Merges boxes of one row that overlap or nearly touch (a gap under `gap` times the text height), when both are
// level and of similar height: the detector sometimes cuts one line in two overlapping pieces, which would read a
// letter twice. The merged box is the pieces' bounding rectangle; its score the higher of theirs.
std::vector<DetBox> merge_row_pieces(const std::vector<DetBox>& boxes, float gap = 0.3f);

// The texts joined in reading order: boxes of one row with a space, rows with a newline.
std::string join_rows(const std::vector<std::vector<size_t>>& rows, const std::vector<std::string>& texts);

}  // namespace dr::analyzers::text
