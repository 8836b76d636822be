"""Reading lists: read a list (a file or a URL) and find every paper it cites.

Owns Markdown structure and mojibake repair (`markdown`), links inside a line (`inline`),
citations written as prose (`prose`), what kind of thing a URL points at (`links`), section
paths (`paths`), the items the parser reads (`items`), the one-pass list parser (`parser`) and
where lists come from (`registry`: sources.toml, `--list`, files, URLs). Parsing takes time
linear in the list. May import only the ground modules (`config`, `errors`, `records`, `ids`,
`text`, `files`) and `clients` (`http`, `download`) for downloads.
"""
