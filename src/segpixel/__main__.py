from segpixel.cli import main

main()
