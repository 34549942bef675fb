# SPDX-License-Identifier: BSD-3-Clause
# Compiler flags shared by every target of the project.

# POSIX and GNU interfaces (clock_gettime, pthread extensions, GNU strerror_r) in strict C11.
add_compile_definitions(_GNU_SOURCE)
add_compile_options(-Wall -Wextra -Wno-missing-field-initializers)
add_compile_options($<$<COMPILE_LANGUAGE:C>:-Wstrict-prototypes>)

if(PMEMKIT_SANITIZE)
	add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=all
			    -fno-omit-frame-pointer)
	add_link_options(-fsanitize=address,undefined)
endif()
