package transport

// System call numbers of linux/amd64 (the syscall package lacks sendmmsg).
const (
	sysRECVMMSG = 299
	sysSENDMMSG = 307
)
