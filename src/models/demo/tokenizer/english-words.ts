/**
 * The built-in corpus the demo tokenizer's BPE merges are learned from: common English words
 * and words typical of image prompts, so real prompts split into real subwords. Order matters
 * only for ties, and ties are broken lexicographically, so the merges do not depend on it.
 */
export const ENGLISH_WORDS: readonly string[] = `
a an the of and or in on at to for with from by as is are was were be been being it its this that
these those there here what which who whom whose when where why how all any both each few more most
other some such no nor not only own same so than too very can will just should now one two three
four five six seven eight nine ten first second third new old good great small large big little long
short high low young early late right left best better last next red orange yellow green blue purple
pink brown black white gray grey gold golden silver dark light bright colorful vivid pastel neon
photo photograph photography picture image painting drawing sketch illustration render rendering
portrait landscape cityscape seascape still life close up wide angle shot view scene background
foreground detailed highly detail details intricate beautiful stunning epic cinematic dramatic
lighting light shadows shadow sunset sunrise morning evening night day twilight moon sun stars sky
clouds cloud rain snow fog mist storm weather winter summer spring autumn fall season mountain
mountains hill hills valley river lake sea ocean beach coast island forest woods tree trees flower
flowers garden field meadow grass desert canyon waterfall city town village street road bridge house
home building buildings castle tower church temple ruins room interior kitchen window door table
chair bed lamp book books cat cats dog dogs bird birds horse horses fish lion tiger bear wolf fox
owl eagle dragon unicorn robot robots astronaut knight wizard witch princess king queen warrior
man woman men women boy girl child children person people face eyes hair smile hands standing
sitting walking running flying floating sleeping reading playing wearing holding looking dressed
style art artist artstation trending concept digital oil watercolor acrylic pencil charcoal ink
anime cartoon comic realistic photorealistic hyperrealistic surreal abstract minimalist vintage
retro futuristic fantasy science fiction steampunk cyberpunk gothic baroque renaissance impressionist
octane unreal engine sharp focus soft bokeh depth field resolution quality masterpiece award winning
studio professional camera lens canon nikon film grain texture pattern glass metal wood stone water
fire ice smoke steam crystal marble paper fabric leather gold wearing hat coat dress armor helmet
sword shield crown glasses car cars train ship boat plane airplane bicycle space planet galaxy
nebula universe earth world map ancient medieval modern future past nature natural wild animal
animals magic magical mysterious peaceful quiet calm happy sad lonely warm cold cozy huge tiny giant
`.split(/\s+/).filter((word) => word.length > 0);
