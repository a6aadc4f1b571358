// Command etcd is etcd's own server (etcdmain), built at the version Kubernetes 1.34 requires.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
