from scones.cli import main

main()
