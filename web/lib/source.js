// The list an open photo belongs to (the timeline, search results, a person's faces, a duplicates group): the
// viewer's arrow keys move through it, and closing the viewer gives the focus back to the photo's place in it.
//   items(): the photos loaded so far (photo-list objects: id, path, content_hash, date, width, height)
//   more(): loads more; resolves to whether any came (optional, with hasMore(): whether there is more to load)
//   reveal(id): brings that photo into view and focuses it (optional)
let current = { items: () => [] };

export function setSource(source) {
  current = source;
}

export function getSource() {
  return current;
}
