"""Reading lists: read a list (a file or a URL) and find every paper it cites.

Owns Markdown structure and mojibake repair (`markdown`), citations written as prose (`prose`),
what kind of thing a URL points at (`links`), the one-pass list parser (`parser`) and where lists
come from (`registry`: sources.toml, `--list`, files, URLs). May import only the ground modules
(`config`, `errors`, `records`, `ids`, `text`, `files`) and `clients.http`/`clients.download`
for downloads.
"""
