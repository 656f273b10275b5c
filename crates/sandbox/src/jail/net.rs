//! Small network chores done by the server on a sandbox's behalf.

/// `struct ifreq` with the flags member of its union.
#[repr(C)]
struct InterfaceFlags {
    name: [libc::c_char; libc::IFNAMSIZ],
    flags: libc::c_short,
    _pad: [u8; 22],
}

/// Brings up the loopback interface of the calling thread's network namespace.
#[expect(
    unsafe_code,
    reason = "SIOCGIFFLAGS/SIOCSIFFLAGS ioctls have no safe wrapper"
)]
pub(crate) fn loopback_up() -> std::io::Result<()> {
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    let mut request = InterfaceFlags {
        name: [0; libc::IFNAMSIZ],
        flags: 0,
        _pad: [0; 22],
    };
    for (slot, byte) in request.name.iter_mut().zip(b"lo") {
        *slot = libc::c_char::from_ne_bytes([*byte]);
    }
    // SAFETY: socket(2) returns a new descriptor or -1; we own it from here on.
    let raw = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if raw < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: `raw` is a fresh descriptor nobody else owns.
    let socket = unsafe { OwnedFd::from_raw_fd(raw) };
    // SAFETY: both ioctls read and write a properly laid out `struct ifreq` on our stack.
    unsafe {
        let pointer = std::ptr::from_mut(&mut request).cast::<libc::c_void>();
        if libc::ioctl(socket.as_raw_fd(), libc::SIOCGIFFLAGS, pointer) < 0 {
            return Err(std::io::Error::last_os_error());
        }
        request.flags |= (libc::IFF_UP | libc::IFF_RUNNING) as libc::c_short;
        let pointer = std::ptr::from_mut(&mut request).cast::<libc::c_void>();
        if libc::ioctl(socket.as_raw_fd(), libc::SIOCSIFFLAGS, pointer) < 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}
