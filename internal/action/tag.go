package action

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
)

// fromReleaseEvent is where a tag came from when the run's release event named it: that release exists.
const fromReleaseEvent = "the release event"

// maxEventBytes bounds the event payload read from GITHUB_EVENT_PATH (GitHub caps webhook payloads at 25 MB).
const maxEventBytes = 25 << 20

// releaseTag finds the tag to upload next to: the `release-tag` input, else the release event's tag, else a
// refs/tags/ ref. It returns "" when none applies, with where it looked.
func releaseTag(c *Config) (tag, source string, err error) {
	if c.ReleaseTag != "" {
		return c.ReleaseTag, "the `release-tag` input", nil
	}
	if c.EventName == "release" && c.EventPath != "" {
		t, err := eventReleaseTag(c.EventPath)
		if err != nil {
			return "", "", err
		}
		if t != "" {
			return t, fromReleaseEvent, nil
		}
	}
	if t, ok := strings.CutPrefix(c.Ref, "refs/tags/"); ok && t != "" {
		return t, "GITHUB_REF " + c.Ref, nil
	}
	return "", "", nil
}

func eventReleaseTag(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("reading the event payload GITHUB_EVENT_PATH %q: %w", path, err)
	}
	defer func() { _ = f.Close() }() // read-only
	var ev struct {
		Release struct {
			TagName string `json:"tag_name"`
		} `json:"release"`
	}
	if err := json.NewDecoder(io.LimitReader(f, maxEventBytes)).Decode(&ev); err != nil {
		return "", fmt.Errorf("decoding the event payload %q: %w", path, err)
	}
	return ev.Release.TagName, nil
}

// noReleaseHelp is what to do when an upload is wanted but there is nothing to upload to.
const noReleaseHelp = "set the `release-tag` input, or run on a release (`on: release: types: [created]` for a draft-first flow) or a tag push (`on: push: tags: ['v*']`); or set `upload: false` to sign without uploading"
