"""Reviews and ratings: what a reader's h-review or the form's rating says,
checked (:mod:`.rating`), and what the approved ones add up to
(:mod:`.aggregate`). Pure: data in, data out."""
