// Package assets holds everything guestbook embeds: the HTML templates, the
// static files (CSS, images) and the SQL migrations, and serves the static
// files the way a tuned web server would.
package assets

import (
	"embed"
	"io/fs"
)

//go:embed templates static migrations
var files embed.FS

// Templates is the folder of HTML templates.
func Templates() fs.FS { return sub("templates") }

// Migrations is the folder of SQL migrations for one database driver
// ("mysql" or "sqlite"), as golang-migrate's iofs source reads them.
func Migrations(driver string) (fs.FS, error) { return fs.Sub(files, "migrations/"+driver) }

func sub(dir string) fs.FS {
	f, err := fs.Sub(files, dir)
	if err != nil {
		panic(err) // the folder is embedded; this can't fail
	}
	return f
}
