from meatlizard.cli import main

main()
